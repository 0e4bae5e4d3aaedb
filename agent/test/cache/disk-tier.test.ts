import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskTier } from "../../src/cache/disk-tier.ts";
import { ConfigError } from "../../src/errors.ts";

const key = (n: number) => n.toString(16).padStart(64, "0");
const entry = (size: number, fill: number) => new Uint8Array(size).fill(fill);
const dir = () => join(mkdtempSync(join(tmpdir(), "disk-tier-")), "cache");

describe("the local tier", () => {
  test("is created 0700 and keeps its entries across instances (a restart, a second agent)", async () => {
    const path = dir();
    const first = new DiskTier(path, 1 << 20, () => {});
    expect(statSync(path).mode & 0o777).toBe(0o700);
    await first.write(key(1), entry(100, 1));
    const second = new DiskTier(path, 1 << 20, () => {});
    expect(second.read(key(1))).toEqual(entry(100, 1));
    expect([second.entries, second.bytes]).toEqual([1, 100]);
    await second.write(key(2), entry(50, 2));
    expect(first.read(key(2))).toEqual(entry(50, 2));
    expect(first.read(key(3))).toBeUndefined();
  });

  test("evicts the least recently used first, counting what other agents wrote", async () => {
    const path = dir();
    const evicted: number[] = [];
    const tier = new DiskTier(path, 1 << 20, (count) => evicted.push(count));
    const other = new DiskTier(path, 1 << 20, () => {});
    const size = 300 << 10;
    for (const n of [1, 2, 3]) {
      await (n === 2 ? other : tier).write(key(n), entry(size, n));
      // Distinct mtimes, oldest first, as if written a minute apart.
      const file = join(path, key(n).slice(0, 2), key(n).slice(2));
      const at = new Date(Date.now() - (10 - n) * 60_000);
      utimesSync(file, at, at);
    }
    expect(tier.read(key(1))).toBeDefined();
    await tier.write(key(4), entry(size, 4));
    expect(evicted).toEqual([1]);
    expect(tier.read(key(2))).toBeUndefined();
    for (const n of [1, 3, 4]) expect(tier.read(key(n))).toEqual(entry(size, n));
    expect(tier.bytes).toBe(3 * size);
  });

  test("in inetd mode nothing is counted at start; writes recount by chance, in proportion to their size", async () => {
    const path = dir();
    const daemon = new DiskTier(path, 1 << 20, () => {});
    for (const n of [1, 2]) await daemon.write(key(n), entry(100, n));
    const oneJob = new DiskTier(path, 1 << 20, () => {}, true);
    expect([oneJob.entries, oneJob.bytes]).toEqual([0, 0]);
    expect(oneJob.read(key(1))).toEqual(entry(100, 1));
    // An entry the size of the recount share (5% of the bound) always recounts.
    await oneJob.write(key(3), entry(60 << 10, 3));
    expect([oneJob.entries, oneJob.bytes]).toEqual([3, 200 + (60 << 10)]);
  });

  test("a half-written temp file is never an entry, and is removed once stale", () => {
    const path = dir();
    new DiskTier(path, 1 << 20, () => {});
    const temp = join(path, "tmp", "1234.0.abcdef");
    writeFileSync(temp, "partial");
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(temp, old, old);
    const tier = new DiskTier(path, 1 << 20, () => {});
    expect(tier.entries).toBe(0);
    expect(readdirSync(join(path, "tmp"))).toEqual([]);
  });

  test("a directory that cannot be made is a start-up error", () => {
    const file = join(mkdtempSync(join(tmpdir(), "disk-tier-")), "file");
    writeFileSync(file, "");
    expect(() => new DiskTier(join(file, "cache"), 1 << 20, () => {})).toThrow(ConfigError);
  });
});
