/**
 * @module A job's result as the token sequence the client reads: DONE, STAT, SERR, SOUT, DOTO,
 * then DOTD in protocol 3 on success (distcc-protocol.md §1.3 "Response rules").
 */
import type { JobResult } from "../job/compile-job.ts";
import { compress } from "../lzo/lzo1x.ts";
import { encodeBody, encodeHeader, isCompressed, type ProtocolVersion, Token } from "../protocol/index.ts";

/** `take` gives the buffers for compressed bodies: the caller gives them back once they are sent. */
export function encodeReply(
  version: ProtocolVersion,
  result: JobResult,
  dependencies?: Uint8Array,
  take?: (size: number) => Uint8Array,
): Uint8Array[] {
  const body = isCompressed(version) ? (bytes: Uint8Array) => compress(bytes, take) : (bytes: Uint8Array) => bytes;
  const parts = [
    encodeHeader(Token.DONE, version),
    encodeHeader(Token.STAT, result.status),
    ...encodeBody(Token.SERR, body(result.stderr)),
    ...encodeBody(Token.SOUT, body(result.stdout)),
  ];
  if (result.status !== 0) {
    parts.push(encodeHeader(Token.DOTO, 0));
    return parts;
  }
  parts.push(...encodeBody(Token.DOTO, body(result.object)));
  if (version === 3) parts.push(...encodeBody(Token.DOTD, body(dependencies ?? new Uint8Array(0))));
  return parts;
}

/** Bodies at least this large are written from their own buffer instead of being copied. */
const COPY_LIMIT = 64 << 10;

/**
 * Joins runs of small parts (headers, short bodies) into one buffer each, so the reply leaves in
 * few writes, while a large body (the object file) is written as it is, never copied again.
 */
export function coalesce(parts: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  const flushRun = () => {
    if (run.length > 0) out.push(run.length === 1 ? (run[0] as Uint8Array) : Buffer.concat(run));
    run = [];
  };
  for (const part of parts) {
    if (part.length >= COPY_LIMIT) {
      flushRun();
      out.push(part);
    } else run.push(part);
  }
  flushRun();
  return out;
}
