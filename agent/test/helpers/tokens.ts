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

export interface Reply {
  readonly version: number;
  readonly status: number;
  readonly stderr: string;
  readonly stdout: string;
  readonly object: Uint8Array;
}

/** Parses a complete reply (DONE STAT SERR SOUT DOTO), decompressing in protocol 2. */
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
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after DOTO`);
  return { version, status, stderr, stdout, object };
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
