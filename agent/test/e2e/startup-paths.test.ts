/**
 * Start-up paths the agent cannot use (log file, pid file, whitelist, TMPDIR) end it with one
 * line in the C server's words and its EXIT_IO_ERROR (107): never a stack trace, never a
 * server left running. Run as root, the agent drops to an unprivileged user before opening
 * them, as the C server does, so a root-owned read-only directory refuses it too.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BINARY, freePort, sharedTempDir } from "../helpers/agent.ts";
import { run } from "../helpers/distcc.ts";
import { toolchain } from "../helpers/toolchain.ts";

const EXIT_IO_ERROR = 107;
const root = sharedTempDir("startup-paths-");
const readOnly = join(root, "read-only");
mkdirSync(readOnly);
chmodSync(readOnly, 0o555);
const plainFile = join(root, "file");
writeFileSync(plainFile, "");
const tmpDir = sharedTempDir("startup-tmp-");

function agent(args: string[], env: Record<string, string> = {}) {
  const port = freePort();
  const base = ["--daemon", "--listen", "127.0.0.1", "--port", String(port), "--allow", "127.0.0.1", "--log-level", "error"];
  const whitelist = args.includes("--whitelist") ? [] : ["--whitelist", toolchain().whitelist];
  return { port, result: run([AGENT_BINARY, ...base, ...whitelist, ...args], root, { TMPDIR: tmpDir, ...env }) };
}

async function portFree(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return false;
  } catch {
    return true;
  }
}

describe.each([
  ["in the foreground", ["--no-detach"]],
  ["detaching", []],
])("%s", (_mode, modeArgs) => {
  test.each<[string, string[], Record<string, string>, string]>([
    [
      "a log file in a directory it cannot write",
      ["--log-file", join(readOnly, "agent.log")],
      {},
      `cannot open log file ${readOnly}/agent.log: Permission denied`,
    ],
    [
      "a log file in no directory",
      ["--log-file", "/nonexistent/agent.log"],
      {},
      "cannot open log file /nonexistent/agent.log: No such file or directory",
    ],
    [
      "a pid file in a directory it cannot write",
      ["--pid-file", join(readOnly, "agent.pid")],
      {},
      `cannot write pid file ${readOnly}/agent.pid: Permission denied`,
    ],
    [
      "a pid file under a file",
      ["--pid-file", join(plainFile, "agent.pid")],
      {},
      `cannot write pid file ${plainFile}/agent.pid: Not a directory`,
    ],
    [
      "a whitelist that is missing",
      ["--whitelist", "/nonexistent/whitelist"],
      {},
      "cannot read whitelist /nonexistent/whitelist: No such file or directory",
    ],
    ["a whitelist that is a directory", ["--whitelist", readOnly], {}, `cannot read whitelist ${readOnly}: Is a directory`],
    ["a TMPDIR that is missing", [], { TMPDIR: "/nonexistent/tmp" }, "cannot use TMPDIR /nonexistent/tmp: No such file or directory"],
    ["a TMPDIR that is a file", [], { TMPDIR: plainFile }, `cannot use TMPDIR ${plainFile}: Not a directory`],
    ["a TMPDIR it cannot write", [], { TMPDIR: readOnly }, `cannot use TMPDIR ${readOnly}: Permission denied`],
  ])("%s: one line, exit 107, nothing left listening", async (_name, args, env, message) => {
    const { port, result } = agent([...modeArgs, ...args], env);
    expect(await result).toMatchObject({ exitCode: EXIT_IO_ERROR, stderr: `distccd: ERROR: ${message}\n` });
    expect(await portFree(port)).toBe(true);
  });
});
