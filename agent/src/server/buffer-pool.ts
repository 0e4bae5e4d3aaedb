/**
 * @module Large byte buffers kept for the next jobs: a compressed body waiting in memory, an
 * object file read back, a compressed reply. The allocator hands a freed block of that size back
 * to the kernel within milliseconds, so a fresh buffer costs a page fault for every 4 KiB it
 * touches (a 2 MB object: ~540 faults, more CPU than reading the file); a kept one is mapped.
 */

/** Smaller buffers are left to the allocator, which reuses them without faults. */
const MIN_KEPT = 64 << 10;

export class BufferPool {
  private readonly kept: ArrayBuffer[] = [];
  private keptBytes = 0;
  /** Only buffers made here come back: a view of anything else is left alone. */
  private readonly own = new WeakSet<ArrayBuffer>();

  /** `limit`: the most bytes kept between jobs (buffers in use do not count). */
  constructor(private readonly limit: number) {}

  /** How many bytes wait for the next job. */
  get idleBytes(): number {
    return this.keptBytes;
  }

  /** `size` bytes, not zeroed: the smallest kept buffer that is large enough, or a new one. */
  take(size: number): Uint8Array {
    if (size < MIN_KEPT) return Buffer.allocUnsafeSlow(size);
    let best: ArrayBuffer | undefined;
    for (const buffer of this.kept) if (buffer.byteLength >= size && (!best || buffer.byteLength < best.byteLength)) best = buffer;
    if (best) {
      this.kept.splice(this.kept.indexOf(best), 1);
      this.keptBytes -= best.byteLength;
      return new Uint8Array(best, 0, size);
    }
    // A power of two, so that the next job's slightly larger object still fits.
    const buffer = Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(size))).buffer as ArrayBuffer;
    this.own.add(buffer);
    return new Uint8Array(buffer, 0, size);
  }

  /** Takes back what {@link take} gave, once nothing reads it any more; kept while under the limit. */
  give(bytes: Uint8Array): void {
    const { buffer } = bytes;
    if (!(buffer instanceof ArrayBuffer) || !this.own.has(buffer) || this.kept.includes(buffer)) return;
    if (this.keptBytes + buffer.byteLength > this.limit) return;
    this.kept.push(buffer);
    this.keptBytes += buffer.byteLength;
  }
}
