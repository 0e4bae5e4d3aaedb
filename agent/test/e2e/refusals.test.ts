/**
 * What a refused client, compiler or option sees, and what the agent logs for each. A refused
 * client gets nothing at all (as from the C server); a refused compiler gets a failing STAT and
 * an SERR line naming the compiler and the whitelist to edit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Agent, jobLeftovers, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { distcc } from "../helpers/distcc.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC, toolchain } from "../helpers/toolchain.ts";
import { workspace } from "../helpers/workspace.ts";

let agent: Agent;
beforeAll(async () => {
  agent = await startAgent();
});
afterAll(async () => {
  await agent[Symbol.asyncDispose]();
});

describe("a compiler outside the whitelist", () => {
  test("the real client shows the agent's reason and fails without retrying", async () => {
    const dir = workspace();
    const result = await distcc(["powerpc-linux-gnu-gcc", "-Iinclude", "-c", "src/main.c", "-o", "main.o"], {
      hosts: `127.0.0.1:${agent.port},lzo`,
      cwd: dir,
    });
    expect(result.exitCode).toBe(113);
    expect(result.stderr).toContain(`compiler powerpc-linux-gnu-gcc is not in the whitelist file ${toolchain().whitelist}`);
    expect(existsSync(join(dir, "main.o"))).toBe(false);
    expect(agent.log()).toMatch(/refused job from 127\.0\.0\.1:\d+: compiler powerpc-linux-gnu-gcc is not in the whitelist/);
  });

  test("CVE-2004-2687: `sh -c` as the compiler runs nothing", async () => {
    const marker = join(sharedTempDir("cve-"), "pwned");
    const request = compileRequest(1, ["sh", "-c", `touch ${marker}`, "-c", "x.c", "-o", "x.o"], "int x;\n");
    const reply = parseReply(await exchange(agent.port, request));
    expect(reply.status).toBe(113 << 8);
    expect(reply.stderr).toContain("compiler sh is not in the whitelist file");
    expect(existsSync(marker)).toBe(false);
  });

  test.each([
    ["an absolute path outside /usr/bin", "/usr/local/bin/powerpc-unknown-linux-gnu-gcc", "cannot be a path outside /bin and /usr/bin"],
    ["a relative path", "../bin/powerpc-unknown-linux-gnu-gcc", "cannot be a path"],
  ])("%s is refused", async (_name, compiler, message) => {
    const reply = parseReply(await exchange(agent.port, compileRequest(2, [compiler, "-c", "x.c"], "int x;\n")));
    expect(reply.status).toBe(113 << 8);
    expect(reply.stderr).toContain(message);
  });

  test("/usr/bin/ before a whitelisted name is that name", async () => {
    const reply = parseReply(await exchange(agent.port, compileRequest(2, [`/usr/bin/${GCC}`, "-c", "x.c", "-o", "x.o"], "int x;\n")));
    expect(reply.status).toBe(0);
    expect(reply.object.subarray(1, 4)).toEqual(new TextEncoder().encode("ELF"));
  });
});

test.each([
  ["-fplugin=", "-fplugin=/tmp/evil.so"],
  ["-specs=", "-specs=/tmp/evil.specs"],
])("%s is refused with its reason", async (_name, option) => {
  const reply = parseReply(await exchange(agent.port, compileRequest(1, [GCC, option, "-c", "x.c", "-o", "x.o"], "int x;\n")));
  expect(reply.status).toBe(113 << 8);
  expect(reply.stderr).toContain(`option ${option} is refused`);
});

test("a whitelisted compiler missing on the server fails with 110 and `failed to exec`", async () => {
  // The client preprocesses with the compiler, so only the client's PATH has this name.
  const clientBin = mkdtempSync(join(tmpdir(), "client-bin-"));
  symlinkSync("/usr/bin/powerpc-linux-gnu-gcc", join(clientBin, "ghost-gcc"));
  const whitelist = join(sharedTempDir("whitelist-"), "whitelist");
  writeFileSync(whitelist, "ghost-gcc\n", { mode: 0o644 });
  await using ghost = await startAgent({ args: ["--whitelist", whitelist] });
  expect(ghost.log()).toContain("whitelisted ghost-gcc is not installed");
  const dir = workspace();
  const result = await distcc(["ghost-gcc", "-Iinclude", "-c", "src/main.c", "-o", "main.o"], {
    hosts: `127.0.0.1:${ghost.port}`,
    cwd: dir,
    env: { PATH: `${clientBin}:${process.env.PATH}` },
  });
  expect(result.exitCode).toBe(110);
  expect(result.stderr).toContain("failed to exec ghost-gcc: No such file or directory");
});

describe("--enable-tcp-insecure", () => {
  test.each([
    ["/bin/true", 0, 0],
    ["/bin/false", 1 << 8, 0],
  ])("%s runs as the compiler: STAT %d", async (compiler, status, objectLength) => {
    await using insecure = await startAgent({ args: ["--enable-tcp-insecure"] });
    const reply = parseReply(await exchange(insecure.port, compileRequest(2, [compiler, "-c", "x.c", "-o", "x.o"], "int x;\n")));
    expect({ status: reply.status, objectLength: reply.object.length }).toEqual({ status, objectLength });
  });

  test("the real client accepts /bin/true's empty object", async () => {
    await using insecure = await startAgent({ args: ["--enable-tcp-insecure"] });
    const dir = workspace();
    const result = await distcc(["/bin/true", "-c", "src/main.c", "-o", "true.o"], { hosts: `127.0.0.1:${insecure.port},lzo`, cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("completed ok");
  });
});

describe("the access list", () => {
  test("a client outside --allow gets nothing, and the refusal is logged with its address", async () => {
    await using closed = await startAgent({ allow: ["127.0.0.2"] });
    const received = await exchange(closed.port, compileRequest(1, [GCC, "-c", "x.c"], "int x;\n"));
    expect(received.length).toBe(0);
    await closed.waitForLog(/connection from client '127\.0\.0\.1:\d+' denied by access list/);
    expect(closed.log()).not.toContain("dcc_job_summary");
  });

  test("the real client refused by the access list fails fast with DISTCC_FALLBACK=0", async () => {
    await using closed = await startAgent({ allow: ["10.0.0.0/8"] });
    const dir = workspace();
    const started = Date.now();
    const result = await distcc([GCC, "-Iinclude", "-c", "src/main.c", "-o", "main.o"], { hosts: `127.0.0.1:${closed.port}`, cwd: dir });
    expect(result.exitCode).not.toBe(0);
    expect(result.exitCode).not.toBe(124);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.log).toContain("failed to distribute");
  });

  test("an IPv6 client on ::1", async () => {
    await using v6 = await startAgent({ listen: "::1", allow: ["::1"] });
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", "-c", "src/main.c", "-o", "main.o"], { hosts: `[::1]:${v6.port},lzo`, cwd: dir });
    expect(result.exitCode).toBe(0);
    // The job's line is written after its reply is sent: the client may have exited first.
    await v6.waitForLog(/client: \[::1\]:\d+ COMPILE_OK/);
  });

  test("an IPv4-mapped client on a :: listener matches IPv4 rules, and is logged as IPv4", async () => {
    await using dual = await startAgent({ listen: "::", allow: ["127.0.0.1"] });
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", "-c", "src/main.c", "-o", "main.o"], { hosts: `127.0.0.1:${dual.port},lzo`, cwd: dir });
    expect(result.exitCode).toBe(0);
    await dual.waitForLog(/client: 127\.0\.0\.1:\d+ COMPILE_OK/);
  });

  test("an IPv4-mapped client outside the IPv4 rules is refused", async () => {
    await using dual = await startAgent({ listen: "::", allow: ["127.0.0.2"] });
    expect((await exchange(dual.port, compileRequest(1, [GCC, "-c", "x.c"], "int x;\n"))).length).toBe(0);
    await dual.waitForLog(/denied by access list/);
  });
});

test("no temp dir is left behind by refused jobs", () => {
  expect(jobLeftovers(agent.tmpDir)).toEqual([]);
});

test("without a whitelist file the masquerade directory decides, as in the C server", async () => {
  // Debian's distcc package ships /usr/lib/distcc/powerpc-linux-gnu-gcc but not our image names.
  mkdirSync("/usr/lib/distcc", { recursive: true });
  chmodSync("/usr/lib/distcc", 0o755);
  await using masquerade = await startAgent({ noWhitelist: true, env: { DISTCC_CMDLIST: "" } });
  const reply = parseReply(
    await exchange(masquerade.port, compileRequest(2, ["powerpc-linux-gnu-gcc", "-c", "x.c", "-o", "x.o"], "int x;\n")),
  );
  expect(reply.status).toBe(0);
  const refused = parseReply(await exchange(masquerade.port, compileRequest(2, ["sh", "-c", "x.c"], "int x;\n")));
  expect(refused.stderr).toContain("is not in the masquerade directory /usr/lib/distcc");
});
