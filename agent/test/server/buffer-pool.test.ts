import { expect, test } from "bun:test";
import { BufferPool } from "../../src/server/buffer-pool.ts";

test("a buffer given back serves the next take that fits, the smallest that fits first", () => {
  const pool = new BufferPool(16 << 20);
  const big = pool.take(3 << 20);
  const small = pool.take(200 << 10);
  expect(big.length).toBe(3 << 20);
  expect(small.length).toBe(200 << 10);
  pool.give(big);
  pool.give(small);
  const next = pool.take(150 << 10);
  expect(next.length).toBe(150 << 10);
  expect(next.buffer).toBe(small.buffer);
  const larger = pool.take(2 << 20);
  expect(larger.buffer).toBe(big.buffer);
  expect(pool.idleBytes).toBe(0);
  expect(pool.take(3 << 20).buffer).not.toBe(big.buffer);
});

test("buffers grow to a power of two, so a slightly larger next job still fits", () => {
  const pool = new BufferPool(16 << 20);
  const first = pool.take(1_000_000);
  pool.give(first);
  expect(pool.take(1_040_000).buffer).toBe(first.buffer);
});

test("keeps no more than its limit, nothing small, nothing it did not make, nothing twice", () => {
  const pool = new BufferPool(4 << 20);
  const a = pool.take(3 << 20);
  const b = pool.take(3 << 20);
  pool.give(a);
  pool.give(b);
  expect(pool.idleBytes).toBe(4 << 20);
  pool.give(a);
  expect(pool.idleBytes).toBe(4 << 20);
  pool.give(new Uint8Array(1 << 20));
  const tiny = pool.take(100);
  pool.give(tiny);
  expect(pool.idleBytes).toBe(4 << 20);
  expect(pool.take(100).buffer).not.toBe(tiny.buffer);
  expect(pool.idleBytes).toBe(4 << 20);
});
