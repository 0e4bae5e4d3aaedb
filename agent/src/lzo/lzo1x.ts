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
function compressBound(length: number): number {
  return length + Math.floor(length / 16) + 64 + 3;
}

/**
 * LZO1X-1 compression of `input` into one block; empty input gives an empty result. `take`
 * gives the output buffer (not necessarily zeroed) when the caller keeps its own.
 */
export function compress(input: Uint8Array, take: (size: number) => Uint8Array = (size) => new Uint8Array(size)): Uint8Array {
  if (input.length === 0) return new Uint8Array(0);
  const out = take(compressBound(input.length));
  let op = 0;
  let carried = 0;
  let start = 0;
  let left = input.length;
  // Probes read 32-bit words; a DataView load is one load, not four bytes and three shifts.
  const words = new DataView(input.buffer, input.byteOffset, input.byteLength);
  while (left > 20) {
    const blockLength = Math.min(left, BLOCK_SIZE);
    dictionary.fill(0);
    const result = compressBlock(input, words, start, blockLength, out, op, carried);
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

/**
 * One dictionary block of the C `do_compress` (LZO 2.10, deterministic variant).
 * Returns the output position and the count of pending literals carried to the next block.
 */
function compressBlock(
  input: Uint8Array,
  words: DataView,
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
      const dv = words.getInt32(ip, true);
      const dindex = (Math.imul(0x1824429d, dv) >>> (32 - D_BITS)) & ((1 << D_BITS) - 1);
      mPos = base + (dictionary[dindex] as number);
      dictionary[dindex] = ip - base;
      if (dv === words.getInt32(mPos, true)) break;
      ip += 1 + ((ip - ii) >> 5);
    }
    ii -= ti;
    ti = 0;
    const t = ip - ii;
    if (t !== 0) {
      if (t <= 3) out[op - 2] = (out[op - 2] as number) | t;
      else op = writeLiteralLength(out, op, t);
      if (t < 32) for (let i = 0; i < t; i++) out[op + i] = input[ii + i] as number;
      else out.set(input.subarray(ii, ii + t), op);
      op += t;
    }
    // The C byte loop, four bytes a step while a whole word fits before the block's end; the
    // first differing byte of a word is its lowest set bit's (little-endian loads).
    let mLen = 4;
    for (;;) {
      if (ipEnd - ip - mLen < 4) {
        if (mLen === 4 || ip + mLen < ipEnd)
          while (input[ip + mLen] === input[mPos + mLen]) {
            mLen++;
            if (ip + mLen >= ipEnd) break;
          }
        break;
      }
      const diff = words.getInt32(ip + mLen, true) ^ words.getInt32(mPos + mLen, true);
      if (diff !== 0) {
        mLen += (31 - Math.clz32(diff & -diff)) >> 3;
        break;
      }
      mLen += 4;
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

function overrun(): never {
  throw new LzoError("E_LZO_INPUT_OVERRUN", "compressed data ends too early");
}

/**
 * Bytes the decoder may write past the logical end of its output: copies move up to eight bytes
 * a step and may overshoot by up to seven, which later output overwrites.
 */
const SLACK = 16;

/** Uninitialised memory: every byte the caller sees is written first, so zero-filling is waste. */
function outputBuffer(size: number): Uint8Array {
  return Buffer.allocUnsafe(size + SLACK);
}

/** A larger copy of `out` with room for `needed` bytes, doubling up to `maxOutput`. */
function grown(out: Uint8Array, used: number, needed: number, maxOutput: number): Uint8Array {
  if (needed > maxOutput) throw new LzoError("E_LZO_OUTPUT_LIMIT", `decompressed data exceeds the limit of ${maxOutput} bytes`);
  let size = (out.length - SLACK) * 2;
  while (size < needed) size *= 2;
  const next = outputBuffer(Math.min(size, maxOutput));
  next.set(out.subarray(0, used));
  return next;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decoder phases, named after the C decoder's labels. */
const READ = 0;
const LITERALS = 1;
const FIRST_LITERAL_RUN = 2;
const MATCH = 3;
const MATCH_NEXT = 4;

/** The most output {@link decompressView} keeps between calls; larger results are not retained. */
const SCRATCH_LIMIT = 16 << 20;
let scratch: Uint8Array | undefined;

function firstGuess(inputLength: number, maxOutput: number): number {
  return Math.max(64, Math.min(inputLength * 4, maxOutput));
}

/** Decompresses into a new array that belongs to the caller. */
export function decompress(input: Uint8Array, maxOutput: number): Uint8Array {
  if (input.length === 0) return new Uint8Array(0);
  const { buffer, length } = decode(input, maxOutput, outputBuffer(firstGuess(input.length, maxOutput)));
  return buffer.subarray(0, length);
}

/**
 * Decompresses into the decoder's own reusable buffer: the result is valid only until the next
 * call. For callers that write it out at once (every body the server receives): no allocation,
 * no fresh pages to fault in, and less for the garbage collector, per job.
 */
export function decompressView(input: Uint8Array, maxOutput: number): Uint8Array {
  if (input.length === 0) return new Uint8Array(0);
  const { buffer, length } = decode(input, maxOutput, scratch ?? outputBuffer(firstGuess(input.length, maxOutput)));
  if (buffer.length <= SCRATCH_LIMIT + SLACK) scratch = buffer;
  return buffer.subarray(0, length);
}

/**
 * `lzo1x_decompress_safe`: every read and back-reference is bounds-checked, and the output
 * may not grow past `maxOutput` (a zip bomb costs the sender, not us). Shaped like the C
 * decoder: an outer loop at each literal run, an inner loop over the matches that follow it,
 * and no closures over the cursors, since this runs on every compressed body the agent receives.
 * Like the C fast path, literals and matches at least four bytes back are copied a 32-bit word
 * at a time (DataView loads and stores compile to single moves); this doubled the speed on text.
 * The two eight-byte copy loops stay written out: one helper taking either view ran at half speed.
 */
function decode(input: Uint8Array, maxOutput: number, initial: Uint8Array): { buffer: Uint8Array; length: number } {
  const ipEnd = input.length;
  const inView = viewOf(input);
  let out = initial;
  let outView = viewOf(out);
  let op = 0;
  let ip = 0;
  let t = input[0] as number;
  let phase = READ;
  if (t > 17) {
    ip = 1;
    t -= 17;
    if (t < 4) phase = MATCH_NEXT;
    else {
      if (ipEnd - ip < t) overrun();
      if (t > out.length - SLACK) {
        out = grown(out, op, t, maxOutput);
        outView = viewOf(out);
      }
      out.set(input.subarray(ip, ip + t), op);
      op += t;
      ip += t;
      phase = FIRST_LITERAL_RUN;
    }
  }
  for (;;) {
    if (phase === READ) {
      if (ip >= ipEnd) overrun();
      t = input[ip++] as number;
      phase = t >= 16 ? MATCH : LITERALS;
    }
    if (phase === LITERALS) {
      let n = t;
      if (n === 0) {
        n = 15;
        for (;;) {
          if (ip >= ipEnd) overrun();
          const b = input[ip++] as number;
          if (b !== 0) {
            n += b;
            break;
          }
          n += 255;
          if (n > maxOutput) throw new LzoError("E_LZO_OUTPUT_LIMIT", "length run exceeds the output limit");
        }
      }
      n += 3;
      if (ipEnd - ip < n) overrun();
      if (op + n > out.length - SLACK) {
        out = grown(out, op, op + n, maxOutput);
        outView = viewOf(out);
      }
      if (n >= 128) out.set(input.subarray(ip, ip + n), op);
      else if (ipEnd - ip >= n + 7) {
        let k = 0;
        do {
          outView.setInt32(op + k, inView.getInt32(ip + k, true), true);
          outView.setInt32(op + k + 4, inView.getInt32(ip + k + 4, true), true);
          k += 8;
        } while (k < n);
      } else for (let k = 0; k < n; k++) out[op + k] = input[ip + k] as number;
      op += n;
      ip += n;
      phase = FIRST_LITERAL_RUN;
    }
    if (phase === FIRST_LITERAL_RUN) {
      if (ipEnd - ip < 2) overrun();
      t = input[ip++] as number;
      if (t >= 16) phase = MATCH;
      else {
        // After a literal run, a small opcode is a 3-byte match reaching past M2's range.
        const from = op - (1 + M2_MAX_OFFSET + (t >> 2) + ((input[ip++] as number) << 2));
        if (from < 0) throw new LzoError("E_LZO_LOOKBEHIND", "back-reference before the start of the data");
        if (op + 3 > out.length - SLACK) {
          out = grown(out, op, op + 3, maxOutput);
          outView = viewOf(out);
        }
        outView.setInt32(op, outView.getInt32(from, true), true);
        op += 3;
        t = (input[ip - 2] as number) & 3;
        phase = t === 0 ? READ : MATCH_NEXT;
        if (phase === READ) continue;
      }
    }
    // Matches, each possibly followed by 1 to 3 literals, until a literal run comes next.
    for (;;) {
      if (phase === MATCH_NEXT) {
        if (ipEnd - ip < t + 1) overrun();
        if (op + t > out.length - SLACK) {
          out = grown(out, op, op + t, maxOutput);
          outView = viewOf(out);
        }
        // At least one opcode follows the literals: the word read stays inside the input.
        if (ipEnd - ip >= 4) outView.setInt32(op, inView.getInt32(ip, true), true);
        else for (let k = 0; k < t; k++) out[op + k] = input[ip + k] as number;
        op += t;
        ip += t;
        t = input[ip++] as number;
      }
      let distance: number;
      let length: number;
      if (t >= 64) {
        if (ip >= ipEnd) overrun();
        distance = 1 + ((t >> 2) & 7) + ((input[ip++] as number) << 3);
        length = (t >> 5) + 1;
      } else if (t >= 16) {
        const m3 = t >= 32;
        length = t & (m3 ? 31 : 7);
        if (length === 0) {
          length = m3 ? 31 : 7;
          for (;;) {
            if (ip >= ipEnd) overrun();
            const b = input[ip++] as number;
            if (b !== 0) {
              length += b;
              break;
            }
            length += 255;
            if (length > maxOutput) throw new LzoError("E_LZO_OUTPUT_LIMIT", "length run exceeds the output limit");
          }
        }
        length += 2;
        if (ipEnd - ip < 2) overrun();
        distance = ((input[ip] as number) >> 2) + ((input[ip + 1] as number) << 6);
        ip += 2;
        if (m3) distance += 1;
        else {
          distance += (t & 8) << 11;
          if (distance === 0) {
            if (ip !== ipEnd) throw new LzoError("E_LZO_TRAILING_DATA", "data follows the end-of-stream marker");
            return { buffer: out, length: op };
          }
          distance += 0x4000;
        }
      } else {
        // Only after trailing literals: a 2-byte match.
        if (ip >= ipEnd) overrun();
        distance = 1 + (t >> 2) + ((input[ip++] as number) << 2);
        length = 2;
      }
      const from = op - distance;
      if (from < 0) throw new LzoError("E_LZO_LOOKBEHIND", "back-reference before the start of the data");
      if (op + length > out.length - SLACK) {
        out = grown(out, op, op + length, maxOutput);
        outView = viewOf(out);
      }
      if (distance >= 4) {
        // Each word's source lies wholly before its destination, so overlapping copies repeat correctly.
        if (length >= 128 && distance >= length) out.copyWithin(op, from, from + length);
        else if (distance >= 8) {
          let k = 0;
          do {
            outView.setInt32(op + k, outView.getInt32(from + k, true), true);
            outView.setInt32(op + k + 4, outView.getInt32(from + k + 4, true), true);
            k += 8;
          } while (k < length);
        } else {
          let k = 0;
          do {
            outView.setInt32(op + k, outView.getInt32(from + k, true), true);
            k += 4;
          } while (k < length);
        }
        op += length;
      } else {
        // A run with a period under four bytes: byte by byte repeats it.
        const end = op + length;
        let f = from;
        do out[op++] = out[f++] as number;
        while (op < end);
      }
      t = (input[ip - 2] as number) & 3;
      if (t !== 0) {
        phase = MATCH_NEXT;
        continue;
      }
      if (ip >= ipEnd) overrun();
      t = input[ip++] as number;
      if (t < 16) {
        phase = LITERALS;
        break;
      }
      phase = MATCH;
    }
  }
}
