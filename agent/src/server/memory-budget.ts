/**
 * @module Bytes that all connections together may hold in memory instead of temp files. A
 * compressed body held in memory skips a file written, read back and unlinked per job; the
 * budget keeps a crowd of clients (or a hostile one declaring large bodies) from turning that
 * into unbounded memory: past it, bodies go to disk as before.
 */
export class MemoryBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Reserves `bytes` if they fit; the caller gives them back with {@link release}. */
  reserve(bytes: number): boolean {
    if (bytes > this.limit - this.used) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }

  get inUse(): number {
    return this.used;
  }
}
