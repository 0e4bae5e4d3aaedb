/**
 * @module The one seam over Bun.spawn: runs a compiler in its own process group (so a client
 * that goes away takes the compiler's children with it), stdin from /dev/null, stdout and
 * stderr onto the fds it is given.
 */
import { constants } from "node:os";
import type { Subprocess } from "bun";

export interface SpawnRequest {
  readonly cmd: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the compiler's stdout and stderr go: the write ends of the agent's pipes. */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /** The job's private dir: the only place a confined compiler may write. */
  readonly jobDir: string;
}

/** How a process ended: the raw wait status's two halves; both null when the status was lost. */
export interface ProcessExit {
  readonly exitCode: number | null;
  readonly signal: number | null;
}

export interface RunningProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  /** Signals the whole process group. */
  killGroup(signal: NodeJS.Signals): void;
}

/** A confined spawn whose compiler's toolchain is still being asked for answers later. */
export type SpawnFn = (request: SpawnRequest) => RunningProcess | Promise<RunningProcess>;

function signalNumber(name: string | number | null): number | null {
  if (name === null || typeof name === "number") return name;
  return (constants.signals as Record<string, number>)[name] ?? null;
}

/** A process started with `detached: true`: its pid is its process group's id. */
export function runningProcess(proc: Subprocess): RunningProcess {
  const pid = proc.pid;
  return {
    pid,
    exited: proc.exited.then(() => ({ exitCode: proc.signalCode ? null : proc.exitCode, signal: signalNumber(proc.signalCode) })),
    killGroup(signal) {
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is already gone.
      }
    },
  };
}

export const spawnProcess: SpawnFn = (request) =>
  runningProcess(
    Bun.spawn([...request.cmd], {
      cwd: request.cwd,
      env: request.env as Record<string, string>,
      stdin: "ignore",
      stdout: request.stdoutFd,
      stderr: request.stderrFd,
      detached: true,
    }),
  );
