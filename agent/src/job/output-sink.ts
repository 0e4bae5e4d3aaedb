/**
 * @module Where a compiler's stdout and stderr go: an anonymous memory file (memfd) when the
 * kernel offers one, so that its diagnostics survive a full temp disk (a file in the job dir
 * would lose them to the ENOSPC they report). The compiler is given the memfd as a path,
 * /proc/self/fd/N, so the spawn seam keeps taking paths: it is opened before the exec, in the
 * agent or in its forked child, where fd N is still the memfd. (/proc/<pid>/fd of an agent
 * that dropped root is closed even to the agent's own children.)
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, fstatSync, readFileSync, readSync, statSync } from "node:fs";

export interface OutputSink {
  /** What the compiler's stream is opened on. */
  readonly path: string;
  size(): number;
  /** Everything written so far. */
  read(): Uint8Array;
  /** Frees the memory file; a file in the job dir goes with the dir. */
  close(): void;
}

const MFD_CLOEXEC = 1;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

type MemfdCreate = (name: Uint8Array) => number;
let memfdCreate: MemfdCreate | null | undefined;

/** libc's memfd_create, loaded on first use; null where it is missing (old glibc, musl without the symbol). */
function loadMemfdCreate(): MemfdCreate | null {
  try {
    const libc = dlopen("libc.so.6", { memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 } });
    return (name) => libc.symbols.memfd_create(ptr(name), MFD_CLOEXEC);
  } catch {
    return null;
  }
}

function readOr(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch {
    return EMPTY;
  }
}

/** A sink named `name` (stdout, stderr); `fallbackPath` in the job dir when no memfd can be had. */
export function openOutputSink(name: string, fallbackPath: string): OutputSink {
  if (memfdCreate === undefined) memfdCreate = loadMemfdCreate();
  const fd = memfdCreate === null ? -1 : memfdCreate(encoder.encode(`${name}\0`));
  if (fd < 0) {
    return {
      path: fallbackPath,
      size: () => {
        try {
          return statSync(fallbackPath).size;
        } catch {
          return 0;
        }
      },
      read: () => readOr(fallbackPath),
      close: () => {},
    };
  }
  let open = true;
  const size = () => (open ? fstatSync(fd).size : 0);
  return {
    path: `/proc/self/fd/${fd}`,
    size,
    read: () => {
      const bytes = new Uint8Array(size());
      let filled = 0;
      while (filled < bytes.length) {
        const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
        if (read === 0) break;
        filled += read;
      }
      return bytes.subarray(0, filled);
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
