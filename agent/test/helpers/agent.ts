/**
 * Starts the built `dist/distccd` on a free loopback port and stops it at the end of the test
 * (`await using`). The agent logs to stderr; tests wait on and assert against that log.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { toolchain } from "./toolchain.ts";

export const AGENT_BINARY = resolve(import.meta.dir, "../../../dist/distccd");

export interface AgentOptions {
  /** Flags after the defaults; `--allow` defaults to 127.0.0.1. */
  readonly args?: readonly string[];
  readonly allow?: readonly string[];
  readonly listen?: string;
  readonly jobs?: number;
  /** Pass no --whitelist (the agent then uses its own default rules). */
  readonly noWhitelist?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  /** A directory searched for compilers before the toolchain's. */
  readonly extraPath?: string;
  /** Runs the agent through this command (for example `setpriv` to start it unprivileged). */
  readonly prefix?: readonly string[];
  /** The compile port; default a free one. */
  readonly port?: number;
}

export interface Agent extends AsyncDisposable {
  readonly port: number;
  readonly pid: number;
  /** The agent's TMPDIR, where its job dirs live. */
  readonly tmpDir: string;
  log(): string;
  /**
   * Waits for the log to match, looking only past offset `since` (a `log().length` taken
   * earlier): the log comes through a pipe and may arrive after the client saw the close.
   */
  waitForLog(pattern: RegExp, options?: { since?: number; timeoutMs?: number }): Promise<RegExpMatchArray>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** A port nothing listens on right now: bound by the kernel, then released. */
export function freePort(hostname = "127.0.0.1"): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/**
 * What jobs left in an agent's TMPDIR: every file, and every dir except the emptied job dirs a
 * running agent keeps for its next jobs.
 */
export function jobLeftovers(tmpDir: string): string[] {
  const left: string[] = [];
  for (const entry of readdirSync(tmpDir, { withFileTypes: true })) {
    // A kept job dir holds only its compiler group record, which the next job writes over.
    const inside = entry.isDirectory() ? readdirSync(join(tmpDir, entry.name)).filter((name) => name !== "compiler-group") : [];
    if (entry.isDirectory() && entry.name.startsWith("distccd-agent.") && inside.length === 0) continue;
    left.push(entry.name, ...inside.map((name) => `${entry.name}/${name}`));
  }
  return left;
}

/** A temp dir the agent can use after it drops root (it runs as distccd or nobody). */
export function sharedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o1777);
  return dir;
}

export async function startAgent(options: AgentOptions = {}): Promise<Agent> {
  const tools = toolchain();
  const listen = options.listen ?? "127.0.0.1";
  const port = options.port ?? freePort(listen.includes(":") ? "::1" : "127.0.0.1");
  const tmpDir = sharedTempDir("agent-tmp-");
  const args = [
    "--daemon",
    "--no-detach",
    "--log-stderr",
    "--listen",
    listen,
    "--port",
    String(port),
    "--jobs",
    String(options.jobs ?? 4),
    ...(options.allow ?? ["127.0.0.1"]).flatMap((rule) => ["--allow", rule]),
    ...(options.noWhitelist ? [] : ["--whitelist", tools.whitelist]),
    ...(options.args ?? []),
  ];
  const proc = Bun.spawn([...(options.prefix ?? []), AGENT_BINARY, ...args], {
    env: {
      ...process.env,
      PATH: [options.extraPath, tools.bin, process.env.PATH].filter(Boolean).join(":"),
      TMPDIR: tmpDir,
      ...options.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const waiters = new Set<() => void>();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      text += decoder.decode(chunk, { stream: true });
      for (const wake of waiters) wake();
    }
  })();
  const waitForLog = async (pattern: RegExp, { since = 0, timeoutMs = 15_000 } = {}): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = text.slice(since).match(pattern);
      if (match) return match;
      if (Date.now() > deadline || proc.exitCode !== null) {
        throw new Error(`agent log never matched ${pattern} (exit ${proc.exitCode}):\n${text}`);
      }
      const { promise, resolve: wake } = Promise.withResolvers<void>();
      waiters.add(wake);
      const timer = setTimeout(wake, 100);
      await promise;
      clearTimeout(timer);
      waiters.delete(wake);
    }
  };
  await waitForLog(/listening on/);
  const stop = async () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    return await proc.exited;
  };
  return {
    port,
    pid: proc.pid,
    tmpDir,
    log: () => text,
    waitForLog,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}
