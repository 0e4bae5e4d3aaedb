/**
 * Pump mode (protocol 3) with the real distcc-pump include server and client: the client's
 * sources and headers are rebuilt under a fake root on the agent, which preprocesses and
 * compiles. Every test checks the agent's job log for protocol=3, never only that the compile
 * succeeded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Agent, jobLeftovers, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { distcc, run } from "../helpers/distcc.ts";
import { type IncludeServer, startIncludeServer } from "../helpers/pump.ts";
import { exchange, type PumpEntry, parseReply, pumpRequest } from "../helpers/tokens.ts";
import { GCC, GXX, SYSROOT } from "../helpers/toolchain.ts";
import { workspace } from "../helpers/workspace.ts";

/**
 * A `.d` file as make reads it. gcc wraps its lines by the length of the server's temp names
 * (as under the C server), so the same rule may arrive split differently from a local compile's.
 */
function dependencyWords(text: string): string[] {
  return text.replace(/\\\n/g, " ").split(/\s+/).filter(Boolean);
}

let agent: Agent;
let includeServer: IncludeServer;
let hosts: string;
beforeAll(async () => {
  agent = await startAgent();
  hosts = `127.0.0.1:${agent.port},lzo,cpp`;
  includeServer = await startIncludeServer(hosts);
});
afterAll(async () => {
  await includeServer[Symbol.asyncDispose]();
  await agent[Symbol.asyncDispose]();
});

async function pumpCompile(dir: string, args: string[]) {
  // The job's summary comes through a pipe and may arrive after the client is done: wait for it.
  const since = agent.log().length;
  const result = await distcc(args, { hosts, cwd: dir, env: includeServer.env });
  expect(result).toMatchObject({ exitCode: 0 });
  expect(result.log).toContain(`on 127.0.0.1:${agent.port},lzo,cpp completed ok`);
  await agent.waitForLog(/COMPILE_OK protocol=3/, { since });
  expect(
    agent
      .log()
      .slice(since)
      .match(/COMPILE_OK protocol=3/g)?.length,
  ).toBe(1);
  return result;
}

describe("real builds", () => {
  test("a multi-directory C project: objects equal a local compile, and it runs under qemu", async () => {
    const dir = workspace();
    await pumpCompile(dir, [GCC, "-O2", "-Iinclude", "-c", "src/main.c", "-o", "main.o"]);
    // Absolute include path and input: both are rebased under the agent's fake root.
    await pumpCompile(dir, [GCC, "-O2", `-I${dir}/include`, "-c", `${dir}/src/geometry.c`, "-o", "geometry.o"]);
    for (const [args, output] of [
      [["-O2", "-Iinclude", "-c", "src/main.c"], "main.o"],
      [["-O2", `-I${dir}/include`, "-c", `${dir}/src/geometry.c`], "geometry.o"],
    ] as const) {
      expect((await run([GCC, ...args, "-o", `${output}.local`], dir)).exitCode).toBe(0);
      expect(readFileSync(join(dir, output))).toEqual(readFileSync(join(dir, `${output}.local`)));
    }
    expect((await run([GCC, "main.o", "geometry.o", "-o", "prog"], dir)).exitCode).toBe(0);
    expect(await run(["qemu-ppc-static", "-L", SYSROOT, "./prog"], dir)).toMatchObject({
      exitCode: 0,
      stdout: "manhattan=7 area=12 args=1\n",
    });
  });

  test("a C++ file: the object equals a local compile", async () => {
    const dir = workspace();
    await pumpCompile(dir, [GXX, "-O2", "-std=c++17", "-c", "src/shapes.cpp", "-o", "shapes.o"]);
    expect((await run([GXX, "-O2", "-std=c++17", "-c", "src/shapes.cpp", "-o", "shapes.local.o"], dir)).exitCode).toBe(0);
    expect(readFileSync(join(dir, "shapes.o"))).toEqual(readFileSync(join(dir, "shapes.local.o")));
  });

  test("-MD: the dependency file names the client's paths, as a local compile's does", async () => {
    const dir = workspace();
    await pumpCompile(dir, [GCC, "-MD", "-Iinclude", "-c", "src/main.c", "-o", "main.o"]);
    const remote = readFileSync(join(dir, "main.d"), "utf8");
    expect(dependencyWords(remote).slice(0, 2)).toEqual(["main.o:", "src/main.c"]);
    expect(remote).toContain("include/geometry.h");
    expect(remote).toContain("include/detail/units.h");
    expect(remote).not.toContain(agent.tmpDir);
    expect((await run([GCC, "-MD", "-Iinclude", "-c", "src/main.c", "-o", "main.o"], dir)).exitCode).toBe(0);
    expect(dependencyWords(remote)).toEqual(dependencyWords(readFileSync(join(dir, "main.d"), "utf8")));
  });

  test("-g: the debug info holds no server temp path (DWARF 5 .debug_line_str included)", async () => {
    const dir = workspace();
    await pumpCompile(dir, [GCC, "-g", `-I${dir}/include`, "-c", "src/geometry.c", "-o", "geometry.o"]);
    const dump = await run(["powerpc-linux-gnu-readelf", "--debug-dump=info,line,str", "geometry.o"], dir);
    expect(dump.exitCode).toBe(0);
    expect(dump.stdout).toContain("DW_AT_comp_dir");
    expect(dump.stdout).toContain(dir);
    expect(dump.stdout).not.toContain(agent.tmpDir);
    expect(dump.stdout).not.toContain("distccd_");
  });
});

describe("hostile protocol 3 streams", () => {
  const argv = [GCC, "-c", "m.c", "-o", "m.o"];
  const source = { name: "/src/m.c", file: "int m;\n" };
  const victimDir = sharedTempDir("victim-");
  const victim = join(victimDir, "owned");

  test.each<[string, PumpEntry[], RegExp]>([
    [
      "a NAME climbing out with ..",
      [source, { name: `/src/../../../../../../../..${victim}`, file: "x" }],
      /contains "\." or "\.\." \(path traversal\)/,
    ],
    ["an absolute LINK target that escapes", [source, { name: "/src/up", link: "/../../../../../../.." }], /escapes the job root/],
    [
      "a relative LINK out of the root to another path",
      [source, { name: "/src/etc", link: "../../../../../../../../../../etc" }],
      /escapes the job root \(to \/etc\)/,
    ],
    [
      "a FILE written through a LINK",
      [source, { name: victimDir, link: `../../../../../../../../../../..${victimDir}` }, { name: victim, file: "x" }],
      /passes through the symlink/,
    ],
    ["a symlink chain", [source, { name: "/src/a", link: "b" }, { name: "/src/b", link: "m.c" }], /symlink chain/],
    ["a duplicate NAME", [source, source], /is sent twice/],
    ["a relative NAME", [source, { name: "src/x.h", file: "x" }], /is not an absolute path/],
    ["a NAME over the length limit", [source, { name: `/src/${"x".repeat(5000)}`, file: "x" }], /longer than 4096 bytes/],
  ])("%s is refused with a failing STAT that says why", async (_name, entries, reason) => {
    const reply = parseReply(await exchange(agent.port, pumpRequest("/src", argv, entries)));
    expect(reply.status).toBe(109 << 8);
    expect(reply.stderr).toMatch(reason);
    expect(existsSync(victim)).toBe(false);
    expect(agent.log()).toMatch(reason);
    const good = parseReply(await exchange(agent.port, pumpRequest("/src", argv, [source])));
    expect(good.status).toBe(0);
  });

  test("the include server's mirrors of system directories are accepted, even one this server lacks", async () => {
    const entries: PumpEntry[] = [
      { name: "/src/m.c", file: "#include <stdio.h>\nint m;\n" },
      { name: "/usr/include", link: `${"../".repeat(30)}usr/include` },
      { name: "/usr/lib/gcc-cross/other-distro/14/include", link: `${"../".repeat(30)}usr/lib/gcc-cross/other-distro/14/include` },
    ];
    const reply = parseReply(await exchange(agent.port, pumpRequest("/src", argv, entries)));
    expect(reply.status).toBe(0);
    expect(dependencyWords(reply.dependencies ?? "").slice(0, 2)).toEqual(["m.o:", "m.c"]);
  });

  test("too many files is refused before any is read", async () => {
    expect((await exchange(agent.port, pumpRequest("/src", argv, [source], 200_000))).length).toBe(0);
    await agent.waitForLog(/NFIL 200000 exceeds the limit of 100000 files/);
  });

  test("no job dir is left behind", () => {
    expect(jobLeftovers(agent.tmpDir)).toEqual([]);
  });
});
