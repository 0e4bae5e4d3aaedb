/**
 * @module Keeps the Redis URL (and its password) from the compilers. They run as the agent's
 * user, and a client's code runs in them (`.incbin`, plugins of the compiler, a hostile
 * header), so `/proc/<agent>/environ` must not be readable to them: a process that is not
 * dumpable has its /proc files owned by root. A root-started agent that switched users is
 * already so; one started as its user (a pod's uid 3632) needs this. Children are dumpable
 * again after exec, so compilers and their diagnostics are unaffected.
 */
import { dlopen, FFIType } from "bun:ffi";

/** prctl(2). */
const PR_SET_DUMPABLE = 4;

/** True when the agent is no longer dumpable. */
export function makeUndumpable(): boolean {
  try {
    const libc = dlopen("libc.so.6", {
      prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
    });
    const result = libc.symbols.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    libc.close();
    return result === 0;
  } catch {
    return false;
  }
}
