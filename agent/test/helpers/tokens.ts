/**
 * Builds raw distcc request byte streams for tests that speak the protocol without the client,
 * and reads a reply back into its tokens.
 */
import { compress, decompress } from "../../src/lzo/lzo1x.ts";
import { encodeArgv, encodeBody, encodeHeader } from "../../src/protocol/encode.ts";

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** A whole protocol 1 or 2 request: DIST, ARGC/ARGV, DOTI. */
export function compileRequest(version: 1 | 2, argv: readonly string[], source: string | Uint8Array): Uint8Array {
  const bytes = typeof source === "string" ? new TextEncoder().encode(source) : source;
  const body = version === 2 && bytes.length > 0 ? compress(bytes) : bytes;
  return concat([encodeHeader("DIST", version), ...encodeArgv(argv), ...encodeBody("DOTI", body)]);
}

/** One NAME entry of a pump request: file contents, or a symlink target. */
export type PumpEntry = { name: string; file: string | Uint8Array } | { name: string; link: string };

/** A whole protocol 3 request: DIST, CDIR, ARGC/ARGV, NFIL, then NAME with FILE (LZO) or LINK. */
export function pumpRequest(cwd: string, argv: readonly string[], entries: readonly PumpEntry[], fileCount = entries.length): Uint8Array {
  const encoder = new TextEncoder();
  const parts = [encodeHeader("DIST", 3), ...encodeBody("CDIR", encoder.encode(cwd)), ...encodeArgv(argv), encodeHeader("NFIL", fileCount)];
  for (const entry of entries) {
    parts.push(...encodeBody("NAME", encoder.encode(entry.name)));
    if ("link" in entry) parts.push(...encodeBody("LINK", encoder.encode(entry.link)));
    else {
      const bytes = typeof entry.file === "string" ? encoder.encode(entry.file) : entry.file;
      parts.push(...encodeBody("FILE", bytes.length > 0 ? compress(bytes) : bytes));
    }
  }
  return concat(parts);
}

export interface Reply {
  readonly version: number;
  readonly status: number;
  readonly stderr: string;
  readonly stdout: string;
  readonly object: Uint8Array;
  /** Protocol 3 on success only. */
  readonly dependencies: string | undefined;
}

/** Parses a complete reply (DONE STAT SERR SOUT DOTO, DOTD in protocol 3), decompressing from protocol 2 on. */
export function parseReply(bytes: Uint8Array): Reply {
  let at = 0;
  const header = (token: string) => {
    const text = new TextDecoder().decode(bytes.subarray(at, at + 12));
    if (!text.startsWith(token)) throw new Error(`expected ${token} at ${at}, got "${text}"`);
    at += 12;
    return Number.parseInt(text.slice(4), 16);
  };
  const version = header("DONE");
  const body = (token: string) => {
    const length = header(token);
    const raw = bytes.subarray(at, at + length);
    at += length;
    return version >= 2 && length > 0 ? decompress(raw, 1 << 30) : raw;
  };
  const status = header("STAT");
  const stderr = new TextDecoder().decode(body("SERR"));
  const stdout = new TextDecoder().decode(body("SOUT"));
  const object = body("DOTO");
  const dependencies = version === 3 && status === 0 ? new TextDecoder().decode(body("DOTD")) : undefined;
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after the last token`);
  return { version, status, stderr, stdout, object, dependencies };
}

/**
 * Sends bytes to the agent, then reads until the agent closes; returns all it sent back.
 * With `hangUp`, the client closes its side once the bytes are sent (a truncated stream).
 */
export async function exchange(
  port: number,
  request: Uint8Array,
  options: { hostname?: string; hangUp?: boolean } = {},
): Promise<Uint8Array> {
  const received: Uint8Array[] = [];
  const { promise, resolve } = Promise.withResolvers<Uint8Array>();
  let unsent = request;
  const send = (socket: { write(bytes: Uint8Array): number; end(): void }) => {
    const written = socket.write(unsent);
    unsent = unsent.subarray(Math.max(0, written));
    if (unsent.length === 0 && options.hangUp) socket.end();
  };
  await Bun.connect({
    hostname: options.hostname ?? "127.0.0.1",
    port,
    socket: {
      open: send,
      drain: send,
      data(_socket, chunk) {
        received.push(new Uint8Array(chunk));
      },
      close() {
        resolve(concat(received));
      },
      error() {
        resolve(concat(received));
      },
    },
  });
  return promise;
}
