/**
 * @module LZO1X-1 block compression and safe decompression, as distcc uses it on the wire:
 * one raw block per payload, no header, no length, ending in the `11 00 00` marker
 * (distcc-protocol.md §2, §2.1). Pure: bytes in, bytes out.
 */
import { LzoError } from "../errors.ts";

const M2_MAX_LEN = 8;
const M3_MAX_LEN = 33;
const M4_MAX_LEN = 9;
const M2_MAX_OFFSET = 0x0800;
const M3_MAX_OFFSET = 0x4000;
const M3_MARKER = 32;
const M4_MARKER = 16;
const D_BITS = 14;
/** The C compressor restarts its dictionary every 48 KiB; matches never reach across. */
const BLOCK_SIZE = 49152;

/** Work memory is reused between calls: the server compresses one reply part at a time. */
const dictionary = new Uint16Array(1 << D_BITS);

/** Worst-case output size of {@link compress}, as the C code sizes its buffer. */
export function compressBound(length: number): number {
  return length + Math.floor(length / 16) + 64 + 3;
}

/** LZO1X-1 compression of `input` into one block; empty input gives an empty result. */
export function compress(input: Uint8Array): Uint8Array {
  if (input.length === 0) return new Uint8Array(0);
  const out = new Uint8Array(compressBound(input.length));
  let op = 0;
  let carried = 0;
  let start = 0;
  let left = input.length;
  while (left > 20) {
    const blockLength = Math.min(left, BLOCK_SIZE);
    dictionary.fill(0);
    const result = compressBlock(input, start, blockLength, out, op, carried);
    op = result.op;
    carried = result.literals;
    start += blockLength;
    left -= blockLength;
  }
  carried += left;
  if (carried > 0) {
    const ii = input.length - carried;
    if (op === 0 && carried <= 238) out[op++] = 17 + carried;
    else if (carried <= 3) out[op - 2] = (out[op - 2] ?? 0) | carried;
    else op = writeLiteralLength(out, op, carried);
    out.set(input.subarray(ii, ii + carried), op);
    op += carried;
  }
  out[op++] = M4_MARKER | 1;
  out[op++] = 0;
  out[op++] = 0;
  return out.subarray(0, op);
}

function writeLiteralLength(out: Uint8Array, start: number, t: number): number {
  let op = start;
  if (t <= 18) {
    out[op++] = t - 3;
    return op;
  }
  let tt = t - 18;
  out[op++] = 0;
  while (tt > 255) {
    tt -= 255;
    out[op++] = 0;
  }
  out[op++] = tt;
  return op;
}

function readLE32(buf: Uint8Array, i: number): number {
  return ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24)) >>> 0;
}

/**
 * One dictionary block of the C `do_compress` (LZO 2.10, deterministic variant).
 * Returns the output position and the count of pending literals carried to the next block.
 */
function compressBlock(
  input: Uint8Array,
  base: number,
  length: number,
  out: Uint8Array,
  opStart: number,
  carriedIn: number,
): { op: number; literals: number } {
  const ipEnd = base + length - 20;
  let op = opStart;
  let ip = base;
  let ii = base;
  let ti = carriedIn;
  ip += ti < 4 ? 4 - ti : 0;
  // The C loop is entered through its `literal:` label, which advances before the first probe.
  ip += 1 + ((ip - ii) >> 5);
  for (;;) {
    let mPos = 0;
    for (;;) {
      if (ip >= ipEnd) return { op, literals: base + length - (ii - ti) };
      const dv = readLE32(input, ip);
      const dindex = (Math.imul(0x1824429d, dv) >>> (32 - D_BITS)) & ((1 << D_BITS) - 1);
      mPos = base + (dictionary[dindex] as number);
      dictionary[dindex] = ip - base;
      if (dv === readLE32(input, mPos)) break;
      ip += 1 + ((ip - ii) >> 5);
    }
    ii -= ti;
    ti = 0;
    const t = ip - ii;
    if (t !== 0) {
      if (t <= 3) out[op - 2] = (out[op - 2] as number) | t;
      else op = writeLiteralLength(out, op, t);
      out.set(input.subarray(ii, ii + t), op);
      op += t;
    }
    let mLen = 4;
    while (input[ip + mLen] === input[mPos + mLen]) {
      mLen++;
      if (ip + mLen >= ipEnd) break;
    }
    let mOff = ip - mPos;
    ip += mLen;
    ii = ip;
    if (mLen <= M2_MAX_LEN && mOff <= M2_MAX_OFFSET) {
      mOff -= 1;
      out[op++] = ((mLen - 1) << 5) | ((mOff & 7) << 2);
      out[op++] = mOff >> 3;
    } else if (mOff <= M3_MAX_OFFSET) {
      mOff -= 1;
      op = writeMatchLength(out, op, M3_MARKER, mLen, M3_MAX_LEN);
      out[op++] = (mOff << 2) & 0xff;
      out[op++] = mOff >> 6;
    } else {
      mOff -= 0x4000;
      op = writeMatchLength(out, op, M4_MARKER | ((mOff >> 11) & 8), mLen, M4_MAX_LEN);
      out[op++] = (mOff << 2) & 0xff;
      out[op++] = mOff >> 6;
    }
  }
}

function writeMatchLength(out: Uint8Array, start: number, marker: number, mLen: number, maxLen: number): number {
  let op = start;
  if (mLen <= maxLen) {
    out[op++] = marker | (mLen - 2);
    return op;
  }
  let rest = mLen - maxLen;
  out[op++] = marker;
  while (rest > 255) {
    rest -= 255;
    out[op++] = 0;
  }
  out[op++] = rest;
  return op;
}

/** Growable output for the decoder: distcc never sends the decompressed length. */
class Output {
  buf: Uint8Array;
  op = 0;
  constructor(
    initial: number,
    private readonly limit: number,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(initial, limit)));
  }
  need(n: number): void {
    if (this.op + n <= this.buf.length) return;
    if (this.op + n > this.limit) {
      throw new LzoError("E_LZO_OUTPUT_LIMIT", `decompressed data exceeds the limit of ${this.limit} bytes`);
    }
    let size = this.buf.length * 2;
    while (size < this.op + n) size *= 2;
    const grown = new Uint8Array(Math.min(size, this.limit));
    grown.set(this.buf.subarray(0, this.op));
    this.buf = grown;
  }
}

/**
 * `lzo1x_decompress_safe`: every read and back-reference is bounds-checked, and the output
 * may not grow past `maxOutput` (a zip bomb costs the sender, not us).
 */
export function decompress(input: Uint8Array, maxOutput: number): Uint8Array {
  if (input.length === 0) return new Uint8Array(0);
  const out = new Output(input.length * 8, maxOutput);
  const ipEnd = input.length;
  let ip = 0;
  let t = 0;
  const needIn = (n: number) => {
    if (ipEnd - ip < n) throw new LzoError("E_LZO_INPUT_OVERRUN", "compressed data ends too early");
  };
  const byte = (): number => {
    if (ip >= ipEnd) throw new LzoError("E_LZO_INPUT_OVERRUN", "compressed data ends too early");
    return input[ip++] as number;
  };
  const copyLiterals = (n: number) => {
    needIn(n);
    out.need(n);
    out.buf.set(input.subarray(ip, ip + n), out.op);
    out.op += n;
    ip += n;
  };
  const copyMatch = (distance: number, n: number) => {
    const from = out.op - distance;
    if (from < 0) throw new LzoError("E_LZO_LOOKBEHIND", "back-reference before the start of the data");
    out.need(n);
    const buf = out.buf;
    let op = out.op;
    if (distance >= n) buf.copyWithin(op, from, from + n);
    else for (let i = 0; i < n; i++) buf[op + i] = buf[from + i] as number;
    op += n;
    out.op = op;
  };
  const extendedLength = (base: number): number => {
    let n = 0;
    let b = byte();
    while (b === 0) {
      n += 255;
      if (n > maxOutput) throw new LzoError("E_LZO_OUTPUT_LIMIT", "length run exceeds the output limit");
      b = byte();
    }
    return n + base + b;
  };

  // States of the C decoder's gotos.
  const MAIN = 0;
  const FIRST_LITERAL_RUN = 1;
  const MATCH = 2;
  const MATCH_NEXT = 3;
  let state = MAIN;
  const first = input[0] as number;
  if (first > 17) {
    ip = 1;
    t = first - 17;
    if (t < 4) state = MATCH_NEXT;
    else {
      copyLiterals(t);
      state = FIRST_LITERAL_RUN;
    }
  }
  for (;;) {
    if (state === MAIN) {
      t = byte();
      if (t >= 16) {
        state = MATCH;
        continue;
      }
      if (t === 0) t = extendedLength(15);
      copyLiterals(t + 3);
      state = FIRST_LITERAL_RUN;
      continue;
    }
    if (state === FIRST_LITERAL_RUN) {
      t = byte();
      if (t >= 16) {
        state = MATCH;
        continue;
      }
      copyMatch(1 + M2_MAX_OFFSET + (t >> 2) + (byte() << 2), 3);
    } else if (state === MATCH) {
      if (t >= 64) {
        copyMatch(1 + ((t >> 2) & 7) + (byte() << 3), (t >> 5) + 1);
      } else if (t >= 32) {
        let len = t & 31;
        if (len === 0) len = extendedLength(31);
        needIn(2);
        const distance = 1 + ((input[ip] as number) >> 2) + ((input[ip + 1] as number) << 6);
        ip += 2;
        copyMatch(distance, len + 2);
      } else if (t >= 16) {
        let distance = (t & 8) << 11;
        let len = t & 7;
        if (len === 0) len = extendedLength(7);
        needIn(2);
        distance += ((input[ip] as number) >> 2) + ((input[ip + 1] as number) << 6);
        ip += 2;
        if (distance === 0) {
          if (ip !== ipEnd) throw new LzoError("E_LZO_TRAILING_DATA", "data follows the end-of-stream marker");
          return out.buf.subarray(0, out.op);
        }
        copyMatch(distance + 0x4000, len + 2);
      } else {
        copyMatch(1 + (t >> 2) + (byte() << 2), 2);
      }
    }
    if (state !== MATCH_NEXT) {
      t = (input[ip - 2] as number) & 3;
      if (t === 0) {
        state = MAIN;
        continue;
      }
    }
    copyLiterals(t);
    t = byte();
    state = MATCH;
  }
}
