/**
 * @module The few libc calls Bun has no API for, through bun:ffi: the Landlock syscalls (by
 * number), O_PATH opens for its rules, pipes for the compilers' output, waitpid for the
 * children Bun did not start, and C strings for confined-exec. No native code beyond the Bun binary: libc is the system's own.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";

/** Landlock's syscall numbers are the same on every architecture (asm-generic). */
export const SYS_LANDLOCK_CREATE_RULESET = 444;
export const SYS_LANDLOCK_ADD_RULE = 445;

export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

export type Libc = ReturnType<typeof loadLibc>;

function loadLibc() {
  const { symbols } = dlopen("libc.so.6", {
    syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 },
    open: { args: [FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  return symbols;
}

let libc: Libc | undefined;

/** libc's symbols, loaded on first use and shared: each dlopen compiles its trampolines anew. */
export function openLibc(): Libc {
  libc ??= loadLibc();
  return libc;
}

/** A NUL-terminated copy of `text`; the caller keeps it alive while libc may read it. */
export function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`);
}

/** The errno of the last failed call, read right after it (nothing in between may call libc). */
export function errno(libc: Libc): number {
  const location = libc.__errno_location();
  return location === null ? 0 : read.i32(location, 0);
}

/** A NULL-terminated array of C strings (argv, envp); `keep` holds what must stay alive. */
export function cStringArray(items: readonly string[], keep: Buffer[]): BigUint64Array {
  const pointers = new BigUint64Array(items.length + 1);
  items.forEach((item, index) => {
    const bytes = cString(item);
    keep.push(bytes);
    pointers[index] = BigInt(ptr(bytes));
  });
  return pointers;
}
