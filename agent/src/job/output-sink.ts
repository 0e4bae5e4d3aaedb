/**
 * @module Where a compiler's stdout and stderr go: a pipe that the agent drains into memory. Its
 * output never touches the disk, so the diagnostics survive a full one (a file in the job dir
 * would lose them to the very ENOSPC they report), and a pipe costs no inode: creating files in a
 * busy temp dir was the agent's largest kernel cost per job on ext4 (each new inode is searched
 * for past the recently deleted ones), where a plain file for stdout and a FIFO for stderr cost
 * two of them.
 *
 * Most compiles end before a pipe's 64 KiB fill, so the pipe is read once, when the compiler has
 * exited; a compiler still running after STREAM_AFTER_MS is read as it writes, so it never waits
 * on a full pipe for long (a stream per job from the start cost ~60 µs more).
 */
import { ptr } from "bun:ffi";
import { closeSync, readSync } from "node:fs";
import { O_CLOEXEC, openLibc } from "../sandbox/libc.ts";

export interface OutputSink {
  /** The pipe's write end, for the compiler's fd 1 or 2. */
  readonly fd: number;
  /** The compiler holds its own copy now: the agent's goes, so the pipe ends when the compiler's do. */
  started(): void;
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
const O_NONBLOCK = 0o4000;
const F_SETFL = 4;
/** One pipe's worth, shared by every sink's reads (each read is copied out at once). */
const scratch = new Uint8Array(64 << 10);

/** A pipe whose read end does not block; throws when the agent is out of fds. */
function nonBlockingPipe(): { readEnd: number; writeEnd: number } {
  const libc = openLibc();
  const fds = new Int32Array(2);
  if (libc.pipe2(ptr(fds), O_CLOEXEC) !== 0) throw new Error("cannot make a pipe for the compiler's output");
  const [readEnd, writeEnd] = [fds[0] as number, fds[1] as number];
  libc.fcntl(readEnd, F_SETFL, O_NONBLOCK);
  return { readEnd, writeEnd };
}

/**
 * A sink for one of the compiler's streams. Bytes past `limit` are counted but not kept: the
 * compiler is stopped for them (--max-output-bytes) and its output is not sent.
 */
export function openOutputSink(limit: number): OutputSink {
  const { readEnd, writeEnd } = nonBlockingPipe();
  let holder: number | undefined = writeEnd;
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
    fd: writeEnd,
    started: releaseHolder,
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
