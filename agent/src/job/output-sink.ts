/**
 * @module Where a compiler's stderr goes: a FIFO in the job dir that the agent drains into
 * memory, so the compiler's diagnostics never touch the disk and survive a full one (a file in
 * the job dir would lose them to the very ENOSPC they report). A FIFO costs an inode and no data
 * blocks, and it is a path like any file, so whatever opens the compiler's stdio (Bun.spawn, the
 * confined exec) opens it unchanged. Where no FIFO can be made, and for stdout, which compilers leave
 * empty, a plain file (a FIFO costs ~45 µs of the agent's CPU per job).
 *
 * Most compiles end before a pipe's 64 KiB fill, so the FIFO is read once, when the compiler has
 * exited; a compiler still running after STREAM_AFTER_MS is read as it writes, so it never waits
 * on a full pipe for long (a stream per job from the start cost ~60 µs more).
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, constants, openSync, readFileSync, readSync, statSync } from "node:fs";

export interface OutputSink {
  /** What the compiler's stream is opened on. */
  readonly path: string;
  /** Bytes the compiler has written so far (that the agent has read). */
  size(): number;
  /** Once the compiler has exited: what it wrote, up to the sink's limit. */
  collect(): Promise<Uint8Array>;
  /** Stops reading; idempotent, and called whatever happened. */
  close(): void;
}

const STREAM_AFTER_MS = 100;
/** After the compiler exits, how long a child of it that still holds the stream may keep it. */
const COLLECT_GRACE_MS = 1000;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
/** One pipe's worth, shared by every sink's reads (each read is copied out at once). */
const scratch = new Uint8Array(64 << 10);

type MakeFifo = (path: string) => boolean;
let makeFifo: MakeFifo | undefined;

/** libc's mkfifo, loaded on first use; where it cannot be loaded, no FIFO is ever made. */
function loadMakeFifo(): MakeFifo {
  try {
    const libc = dlopen("libc.so.6", { mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 } });
    return (path) => libc.symbols.mkfifo(ptr(encoder.encode(`${path}\0`)), 0o600) === 0;
  } catch {
    return () => false;
  }
}

/** A plain file at `path`, read back once the compiler has exited. */
export function fileOutputSink(path: string): OutputSink {
  return {
    path,
    size: () => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    },
    collect: async () => {
      try {
        return readFileSync(path);
      } catch {
        return EMPTY;
      }
    },
    close: () => {},
  };
}

/**
 * A sink at `path` in the job dir. Bytes past `limit` are counted but not kept: the compiler is
 * stopped for them (--max-output-bytes) and its output is not sent.
 */
export function openOutputSink(path: string, limit: number): OutputSink {
  makeFifo ??= loadMakeFifo();
  if (!makeFifo(path)) return fileOutputSink(path);
  const readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  // The agent's own writer: the FIFO reads as ended only once it is closed, not while the
  // compiler has yet to open its end.
  let holder: number | undefined = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const chunks: Uint8Array[] = [];
  let written = 0;
  const keep = (bytes: Uint8Array) => {
    if (written + bytes.length <= limit) chunks.push(bytes);
    written += bytes.length;
  };
  /** Reads what the pipe holds now, without waiting. */
  const drainNow = () => {
    for (;;) {
      let read: number;
      try {
        read = readSync(readEnd, scratch);
      } catch {
        return; // EAGAIN: empty, and a writer (a child of the compiler) still holds it.
      }
      if (read === 0) return;
      keep(scratch.slice(0, read));
    }
  };
  let stream: { cancel: () => Promise<void>; drained: Promise<void> } | undefined;
  const streamTimer = setTimeout(() => {
    const reader = Bun.file(readEnd).stream().getReader();
    const drained = (async () => {
      try {
        for (let next = await reader.read(); !next.done; next = await reader.read()) keep(next.value);
      } catch {
        // Cancelled by close().
      }
    })();
    stream = { cancel: () => reader.cancel(), drained };
  }, STREAM_AFTER_MS);
  let closed = false;
  const releaseHolder = () => {
    if (holder !== undefined) closeSync(holder);
    holder = undefined;
  };
  const close = () => {
    clearTimeout(streamTimer);
    releaseHolder();
    if (closed) return;
    closed = true;
    const closeReadEnd = () => {
      try {
        closeSync(readEnd);
      } catch {
        // Bun closed it with the stream.
      }
    };
    if (stream === undefined) closeReadEnd();
    else {
      void stream.cancel().catch(() => {});
      void stream.drained.finally(closeReadEnd);
    }
  };
  return {
    path,
    size: () => written,
    async collect() {
      clearTimeout(streamTimer);
      releaseHolder();
      if (stream === undefined) drainNow();
      else {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([stream.drained, new Promise((resolve) => (timer = setTimeout(resolve, COLLECT_GRACE_MS)))]);
        clearTimeout(timer);
      }
      close();
      return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
    },
    close,
  };
}
