/**
 * @module A cached compile as bytes, the same on disk and in Redis: what a successful job
 * replies (stdout, stderr, object, and the `.d` in pump mode) behind a header that names its key
 * and a SHA-256 checksum. Pure: decoding an entry that fails any check returns undefined, and
 * the caller counts it as corrupt.
 */

/** What a hit replays: the parts of a successful job's reply. */
export interface CachedOutput {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly object: Uint8Array;
  /** Pump mode's dependency file; undefined on protocols 1 and 2. */
  readonly dependencies: Uint8Array | undefined;
}

const MAGIC = 0x45434344; // "DCCE", little-endian
const FORMAT = 1;
const KEY_BYTES = 32;
/** magic u32, format u8, flags u8, 2 spare, key, checksum, four u32 lengths. */
const HEADER_BYTES = 8 + KEY_BYTES + 32 + 16;
const CHECKSUM_AT = 8 + KEY_BYTES;
const LENGTHS_AT = CHECKSUM_AT + 32;
const HAS_DEPENDENCIES = 1;
const MAX_PART = 0xffff_ffff;

function checksum(entry: Uint8Array): Uint8Array {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(entry.subarray(0, CHECKSUM_AT));
  hasher.update(entry.subarray(LENGTHS_AT));
  return hasher.digest() as Uint8Array;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The entry for `key` (32 raw bytes); undefined when a part is too large to describe. */
export function encodeEntry(key: Uint8Array, output: CachedOutput): Uint8Array | undefined {
  const dependencies = output.dependencies ?? new Uint8Array(0);
  const parts = [output.stdout, output.stderr, output.object, dependencies];
  if (parts.some((part) => part.length > MAX_PART)) return undefined;
  const entry = new Uint8Array(HEADER_BYTES + parts.reduce((sum, part) => sum + part.length, 0));
  const view = new DataView(entry.buffer);
  view.setUint32(0, MAGIC, true);
  entry[4] = FORMAT;
  entry[5] = output.dependencies !== undefined ? HAS_DEPENDENCIES : 0;
  entry.set(key, 8);
  let offset = HEADER_BYTES;
  for (const [index, part] of parts.entries()) {
    view.setUint32(LENGTHS_AT + index * 4, part.length, true);
    entry.set(part, offset);
    offset += part.length;
  }
  entry.set(checksum(entry), CHECKSUM_AT);
  return entry;
}

/** The output stored in `entry` under `key`, as views into it; undefined if it is not intact. */
export function decodeEntry(key: Uint8Array, entry: Uint8Array): CachedOutput | undefined {
  if (entry.length < HEADER_BYTES) return undefined;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint32(0, true) !== MAGIC || entry[4] !== FORMAT) return undefined;
  if (!equalBytes(entry.subarray(8, 8 + KEY_BYTES), key)) return undefined;
  const lengths = [0, 1, 2, 3].map((index) => view.getUint32(LENGTHS_AT + index * 4, true));
  if (HEADER_BYTES + lengths.reduce((sum, length) => sum + length, 0) !== entry.length) return undefined;
  if (!equalBytes(entry.subarray(CHECKSUM_AT, LENGTHS_AT), checksum(entry))) return undefined;
  return entryOutput(entry);
}

/** The output in an entry {@link encodeEntry} just made (or {@link decodeEntry} checked), as views into it. */
export function entryOutput(entry: Uint8Array): CachedOutput {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const lengths = [0, 1, 2, 3].map((index) => view.getUint32(LENGTHS_AT + index * 4, true));
  const parts: Uint8Array[] = [];
  let offset = HEADER_BYTES;
  for (const length of lengths) {
    parts.push(entry.subarray(offset, offset + length));
    offset += length;
  }
  const [stdout, stderr, object, dependencies] = parts as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return { stdout, stderr, object, dependencies: (entry[5] ?? 0) & HAS_DEPENDENCIES ? dependencies : undefined };
}
