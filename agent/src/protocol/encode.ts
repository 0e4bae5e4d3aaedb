/**
 * @module Pure encoding of distcc packets: a 12-byte header, then an optional body (§1.1).
 */
import { HEADER_LENGTH } from "./tokens.ts";

const HEX = "0123456789abcdef";

/** `TTTT` + 8 lowercase hex digits, as `dcc_x_token_int` writes them. */
export function encodeHeader(token: string, value: number): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH);
  for (let i = 0; i < 4; i++) out[i] = token.charCodeAt(i);
  let v = value >>> 0;
  for (let i = 11; i >= 4; i--) {
    out[i] = HEX.charCodeAt(v & 15);
    v >>>= 4;
  }
  return out;
}

/** A header whose value is the body's length, then the body; an empty body is just the header. */
export function encodeBody(token: string, body: Uint8Array): Uint8Array[] {
  const header = encodeHeader(token, body.length);
  return body.length === 0 ? [header] : [header, body];
}

/** `ARGC n` followed by one `ARGV` per element (§1.1). */
export function encodeArgv(argv: readonly string[]): Uint8Array[] {
  const encoder = new TextEncoder();
  const parts = [encodeHeader("ARGC", argv.length)];
  for (const arg of argv) parts.push(...encodeBody("ARGV", encoder.encode(arg)));
  return parts;
}
