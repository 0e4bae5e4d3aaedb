/**
 * Runs the real distcc client the way a test needs it to fail loudly: no local fallback, no
 * local retry, a fresh DISTCC_DIR (no backoff state from other tests), a log at INFO level,
 * and a `timeout` around it.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolchain } from "./toolchain.ts";

export interface ClientRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** DISTCC_LOG: shows where each job ran and with which protocol. */
  readonly log: string;
}

export interface ClientOptions {
  readonly hosts: string;
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Runs the client through this command (for example `ip netns exec HOST`). */
  readonly prefix?: readonly string[];
  /**
   * A DISTCC_DIR shared by the clients of one build, as under `make -j`: it holds the host slot
   * locks that spread jobs over hosts. Default: a fresh one per call.
   */
  readonly distccDir?: string;
}

export async function distcc(args: readonly string[], options: ClientOptions): Promise<ClientRun> {
  const dir = options.distccDir ?? mkdtempSync(join(tmpdir(), "distcc-dir-"));
  const logFile = join(mkdtempSync(join(tmpdir(), "distcc-log-")), "client.log");
  const proc = Bun.spawn([...(options.prefix ?? []), "timeout", "120", "distcc", ...args], {
    cwd: options.cwd,
    env: {
      ...process.env,
      PATH: `${toolchain().bin}:${process.env.PATH}`,
      DISTCC_HOSTS: options.hosts,
      DISTCC_DIR: dir,
      DISTCC_FALLBACK: "0",
      DISTCC_SKIP_LOCAL_RETRY: "1",
      DISTCC_LOG: logFile,
      ...options.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  let log = "";
  try {
    log = readFileSync(logFile, "utf8");
  } catch {
    // The client wrote no log (it failed before logging).
  }
  return { exitCode, stdout, stderr, log };
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(cmd: readonly string[], cwd: string, env?: Readonly<Record<string, string>>): Promise<ClientRun> {
  const proc = Bun.spawn([...cmd], {
    cwd,
    env: { ...process.env, PATH: `${toolchain().bin}:${process.env.PATH}`, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr, log: "" };
}
