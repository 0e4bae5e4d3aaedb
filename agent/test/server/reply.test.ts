import { expect, test } from "bun:test";
import { coalesce } from "../../src/server/reply.ts";

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

test("small parts are joined, a large body is passed on as the same buffer, order and bytes unchanged", () => {
  const object = bytes(100_000, 7);
  const parts = [bytes(12, 1), bytes(12, 2), bytes(30, 3), bytes(12, 4), object, bytes(12, 5), bytes(12, 6)];
  const out = coalesce(parts);
  expect(out.map((part) => part.length)).toEqual([66, 100_000, 24]);
  expect(out[1]).toBe(object);
  expect(Buffer.concat(out)).toEqual(Buffer.concat(parts));
});

test("a reply of small parts only is one buffer; nothing gives nothing", () => {
  expect(coalesce([bytes(12, 1), bytes(5, 2)])).toEqual([Buffer.concat([bytes(12, 1), bytes(5, 2)])]);
  expect(coalesce([])).toEqual([]);
});
