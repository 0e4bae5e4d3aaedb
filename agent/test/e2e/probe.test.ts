/**
 * `distccd probe HOST:PORT --compiler NAME` against real servers on loopback: our agent and
 * Debian's C distccd. It sends one C file (protocol 2), and names the object's ELF machine; every
 * way a probe fails is exit 1 with one line saying why.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AGENT_BINARY, freePort, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { type CDistccd, startCDistccd } from "../helpers/c-distccd.ts";
import { run } from "../helpers/distcc.ts";
import { GCC } from "../helpers/toolchain.ts";
import { until } from "../helpers/wait.ts";

const cwd = sharedTempDir("probe-");
const probe = (...args: string[]) => run([AGENT_BINARY, "probe", ...args], cwd);
const POWERPC_OBJECT =
  /^probe: OK \S+ compiled distcc-probe\.c with \S+ in \d+ ms: ELF 32-bit big-endian relocatable object for PowerPC \(\d+ bytes\)\n$/;

describe("against the agent", () => {
  test("a PowerPC object comes back: exit 0, one line naming the machine", async () => {
    await using agent = await startAgent();
    const result = await probe(`127.0.0.1:${agent.port}`, "--compiler", GCC, "--expect-machine", "PowerPC");
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    expect(result.stdout).toMatch(POWERPC_OBJECT);
    await agent.waitForLog(/COMPILE_OK .*input=distcc-probe\.c/);
  });

  test("over IPv6, [::1]:PORT", async () => {
    await using agent = await startAgent({ listen: "::", allow: ["::1"] });
    const result = await probe(`[::1]:${agent.port}`, "--compiler", GCC);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`probe: OK [::1]:${agent.port} compiled`);
  });

  test.each<[string, (port: number) => string[], string]>([
    [
      "a compiler the server does not whitelist",
      (port) => [`127.0.0.1:${port}`, "--compiler", "cc"],
      "cc failed on the server (exit status 113): ",
    ],
    [
      "another machine than expected",
      (port) => [`127.0.0.1:${port}`, "--compiler", GCC, "--expect-machine", "x86-64"],
      "expected an object for x86-64, got ELF 32-bit big-endian relocatable object for PowerPC",
    ],
  ])("%s: exit 1 with the reason", async (_name, args, reason) => {
    await using agent = await startAgent();
    const result = await probe(...args(agent.port));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toStartWith(`probe: FAILED 127.0.0.1:${agent.port}: ${reason}`);
    expect(result.stdout.split("\n")).toHaveLength(2);
  });

  test("a client address the server refuses: exit 1, the connection closed without a reply", async () => {
    await using agent = await startAgent({ allow: ["10.0.0.0/8"] });
    expect(await probe(`127.0.0.1:${agent.port}`, "--compiler", GCC)).toMatchObject({
      exitCode: 1,
      stdout: expect.stringContaining("the server closed the connection without a reply"),
    });
  });
});

describe("against Debian's C distccd", () => {
  let server: CDistccd;
  let port: number;
  beforeAll(async () => {
    // Debian's masquerade dir /usr/lib/distcc is the C server's whitelist: powerpc-linux-gnu-gcc is in it.
    server = await startCDistccd(["--log-stderr", "--lifetime", "120"], { ...process.env, TMPDIR: sharedTempDir("probe-c-") });
    port = server.port;
    await until(
      async () => (await probe(`127.0.0.1:${port}`, "--compiler", "powerpc-linux-gnu-gcc")).exitCode === 0,
      "the C distccd to answer a probe",
    );
  });
  afterAll(async () => {
    await server.stop();
  });

  test("the C server's reply is read the same way", async () => {
    const result = await probe(`localhost:${port}`, "--compiler", "powerpc-linux-gnu-gcc", "--expect-machine", "powerpc");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(POWERPC_OBJECT);
  });

  test("its native compiler gives an x86-64 object, which --expect-machine PowerPC refuses", async () => {
    const native = await probe(`127.0.0.1:${port}`, "--compiler", "x86_64-linux-gnu-gcc");
    expect(native.stdout).toContain("relocatable object for x86-64");
    expect(await probe(`127.0.0.1:${port}`, "--compiler", "x86_64-linux-gnu-gcc", "--expect-machine", "PowerPC")).toMatchObject({
      exitCode: 1,
      stdout: expect.stringContaining("expected an object for PowerPC, got ELF 64-bit little-endian relocatable object for x86-64"),
    });
  });
});

test.each<[string, string[], string]>([
  ["nothing listening", [`127.0.0.1:${freePort()}`, "--compiler", GCC], "cannot connect: connection refused (nothing listens there)"],
  ["a host that does not resolve", ["no-such-host.invalid:3632", "--compiler", GCC], "cannot connect: no such host"],
  ["no --compiler", ["127.0.0.1:3632"], "Missing required argument: compiler"],
  ["no target", ["--compiler", GCC], "give exactly one HOST:PORT"],
  ["a port out of range", ["127.0.0.1:70000", "--compiler", GCC], "127.0.0.1:70000: not HOST:PORT"],
  ["an unknown option", ["127.0.0.1:3632", "--compiler", GCC, "--bogus"], "Unknown argument: bogus"],
])("%s: exit 1 with one line", async (_name, args, reason) => {
  const result = await probe(...args);
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toContain(reason);
  expect(result.stdout.split("\n")).toHaveLength(2);
});

test("a server that takes the request and never answers ends at --timeout", async () => {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    expect(await probe(`127.0.0.1:${listener.port}`, "--compiler", GCC, "--timeout", "1")).toMatchObject({
      exitCode: 1,
      stdout: `probe: FAILED 127.0.0.1:${listener.port}: no complete reply within 1 s (no reply)\n`,
    });
  } finally {
    listener.stop(true);
  }
});

test("a repeated flag takes its last value, as the server's flags do", async () => {
  const received: Uint8Array[] = [];
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_socket, bytes) {
        received.push(new Uint8Array(bytes));
      },
    },
  });
  try {
    const args = ["--compiler", "first-cc", "--compiler", GCC, "--timeout", "30", "--timeout", "1"];
    expect(await probe(`127.0.0.1:${listener.port}`, ...args)).toMatchObject({
      exitCode: 1,
      stdout: `probe: FAILED 127.0.0.1:${listener.port}: no complete reply within 1 s (no reply)\n`,
    });
    const request = Buffer.concat(received).toString("latin1");
    expect([request.includes(GCC), request.includes("first-cc")]).toEqual([true, false]);
  } finally {
    listener.stop(true);
  }
});

test("a server that stops mid-reply is named as such", async () => {
  // Sends DONE and STAT, then hangs up: the probe says how far the reply got.
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.end(new TextEncoder().encode("DONE00000002STAT00000000"));
      },
    },
  });
  try {
    const result = await probe(`127.0.0.1:${listener.port}`, "--compiler", GCC);
    expect(result).toMatchObject({
      exitCode: 1,
      stdout: `probe: FAILED 127.0.0.1:${listener.port}: the server closed the connection after 24 bytes, a reply cut after STAT\n`,
    });
  } finally {
    listener.stop(true);
  }
});
