/**
 * @module Incremental distcc packet framing: fed chunk by chunk as bytes arrive, it returns one
 * frame at a time or `undefined` when it needs more (distcc-protocol.md §1.1). It knows nothing
 * of sockets or of the order of tokens; `request.ts` does.
 */
import { LimitError, ProtocolError } from "../errors.ts";
import { BODY_TOKENS, BULK_TOKENS, HEADER_LENGTH } from "./tokens.ts";

export type Frame =
  /** A token that carries only its 32-bit value (DIST, ARGC, NFIL, and any unknown token). */
  | { kind: "value"; token: string; value: number }
  /** A short body received whole (ARGV, CDIR, NAME, LINK). */
  | { kind: "string"; token: string; bytes: Uint8Array }
  /** A bulk body (DOTI, FILE) arrives as start, chunks, end; chunks are views valid until the next push. */
  | { kind: "bulk-start"; token: string; length: number }
  | { kind: "bulk-chunk"; token: string; bytes: Uint8Array }
  | { kind: "bulk-end"; token: string };

export interface DecoderLimits {
  /** Largest short body (one ARGV, CDIR, NAME or LINK). */
  readonly maxStringBytes: number;
  /** Largest bulk body as sent (compressed size in protocols 2 and 3). */
  readonly maxBulkBytes: number;
}

enum State {
  Header,
  String,
  Bulk,
}

function isTokenByte(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

function printable(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
}

export class Decoder {
  private chunks: Uint8Array[] = [];
  private offset = 0;
  private available = 0;
  private state = State.Header;
  private token = "";
  private remaining = 0;
  /** The one buffer this decoder allocated itself to keep a partial packet. */
  private owned: Uint8Array | undefined;
  /** Total bytes pushed, for logs and counters. */
  bytesIn = 0;

  constructor(private readonly limits: DecoderLimits) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
    this.bytesIn += chunk.length;
  }

  /** Drops what was pushed and not yet read: bytes after a complete request, never looked at. */
  discard(): void {
    this.chunks = [];
    this.offset = 0;
    this.available = 0;
    this.owned = undefined;
  }

  next(): Frame | undefined {
    switch (this.state) {
      case State.Header:
        return this.readHeader();
      case State.String: {
        if (this.available < this.remaining) return this.retain();
        const bytes = this.take(this.remaining, true);
        this.state = State.Header;
        return { kind: "string", token: this.token, bytes };
      }
      case State.Bulk: {
        if (this.remaining === 0) {
          this.state = State.Header;
          return { kind: "bulk-end", token: this.token };
        }
        if (this.available === 0) return this.retain();
        const bytes = this.takeSome(this.remaining);
        this.remaining -= bytes.length;
        return { kind: "bulk-chunk", token: this.token, bytes };
      }
    }
  }

  private readHeader(): Frame | undefined {
    if (this.available < HEADER_LENGTH) return this.retain();
    const header = this.take(HEADER_LENGTH, false);
    for (let i = 0; i < 4; i++) {
      if (!isTokenByte(header[i] as number)) {
        throw new ProtocolError("E_PROTOCOL_TOKEN", `not a distcc token: "${printable(header)}"`);
      }
    }
    let value = 0;
    for (let i = 4; i < HEADER_LENGTH; i++) {
      const digit = hexDigit(header[i] as number);
      if (digit < 0) throw new ProtocolError("E_PROTOCOL_HEX", `bad hex value in packet header "${printable(header)}"`);
      value = value * 16 + digit;
    }
    const token = String.fromCharCode(header[0] as number, header[1] as number, header[2] as number, header[3] as number);
    if (!BODY_TOKENS.has(token)) return { kind: "value", token, value };
    this.token = token;
    this.remaining = value;
    if (BULK_TOKENS.has(token)) {
      if (value > this.limits.maxBulkBytes) {
        throw new LimitError("E_LIMIT_BODY", `${token} body of ${value} bytes exceeds the limit of ${this.limits.maxBulkBytes}`);
      }
      this.state = State.Bulk;
      return { kind: "bulk-start", token, length: value };
    }
    if (value > this.limits.maxStringBytes) {
      throw new LimitError("E_LIMIT_STRING", `${token} string of ${value} bytes exceeds the limit of ${this.limits.maxStringBytes}`);
    }
    this.state = State.String;
    return this.next();
  }

  /** Bytes left over when more are needed are copied, so the caller's chunks can be reused. */
  private retain(): undefined {
    const alreadyOwned = this.chunks.length === 1 && this.offset === 0 && this.chunks[0] === this.owned;
    if (this.available > 0 && !alreadyOwned) {
      const rest = this.take(this.available, true);
      this.chunks = [rest];
      this.available = rest.length;
      this.owned = rest;
    }
    return undefined;
  }

  private take(n: number, copy: boolean): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.advance(n);
      // new Uint8Array, not slice(): a Buffer's slice() is another view of the same memory.
      return copy ? new Uint8Array(view) : view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const piece = this.takeSome(n - filled);
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  private takeSome(max: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    const n = Math.min(max, first.length - this.offset);
    const view = first.subarray(this.offset, this.offset + n);
    this.advance(n);
    return view;
  }

  private advance(n: number): void {
    this.offset += n;
    this.available -= n;
    while (this.chunks.length > 0 && this.offset >= (this.chunks[0] as Uint8Array).length) {
      this.offset -= (this.chunks[0] as Uint8Array).length;
      this.chunks.shift();
    }
  }
}
