/**
 * @module The exits of the children the agent starts itself (confined-exec.ts): Bun waits only
 * for its own. SIGCHLD says that some child ended (several may end for one signal), so on each
 * every child still waited for is asked with waitpid(WNOHANG), which reaps only that pid and
 * leaves Bun's own children to Bun.
 */
import { ptr } from "bun:ffi";
import type { ProcessExit } from "../job/spawn.ts";
import { errno, openLibc } from "./libc.ts";

const WNOHANG = 1;
const ECHILD = 10;
const EINTR = 4;

let watching = false;
const waiting = new Map<number, (exit: ProcessExit) => void>();
const status = new Int32Array(1);

/** A raw wait status as exit code or signal, as Bun reports its own children's. */
function decode(raw: number): ProcessExit {
  const signal = raw & 0x7f;
  return signal === 0 ? { exitCode: (raw >> 8) & 0xff, signal: null } : { exitCode: null, signal };
}

function reap(): void {
  const libc = openLibc();
  for (const [pid, resolve] of waiting) {
    const ended = libc.waitpid(pid, ptr(status), WNOHANG);
    if (ended === pid) resolve(decode(status[0] ?? 0));
    // Reaped by someone else: the status is lost, but the child is gone.
    else if (ended < 0 && errno(libc) === ECHILD) resolve({ exitCode: null, signal: null });
    else continue;
    waiting.delete(pid);
  }
}

/** Installs the SIGCHLD listener; before the first child is started, so no exit goes unseen. */
export function watchChildExits(): void {
  if (watching) return;
  watching = true;
  process.on("SIGCHLD", reap);
}

/** Resolves when `pid`, a child started after watchChildExits(), has exited. */
export function childExit(pid: number): Promise<ProcessExit> {
  return new Promise((resolve) => {
    waiting.set(pid, resolve);
  });
}

/** Reaps a child known to have exited already (one that failed before its exec). */
export function reapExited(pid: number): void {
  const libc = openLibc();
  while (libc.waitpid(pid, ptr(status), 0) < 0 && errno(libc) === EINTR);
}
