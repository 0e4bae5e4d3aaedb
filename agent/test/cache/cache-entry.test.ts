import { describe, expect, test } from "bun:test";
import { decodeEntry, encodeEntry } from "../../src/cache/cache-entry.ts";

const key = new Uint8Array(32).map((_, i) => i);
const text = (value: string) => new TextEncoder().encode(value);
const output = {
  stdout: text("out"),
  stderr: text("warning: x\n"),
  object: text("\x7fELF object bytes"),
  dependencies: text("a.o: a.c\n"),
};

describe("cache entries", () => {
  test("round-trip every part, with and without a dependency file", () => {
    const entry = encodeEntry(key, output) as Uint8Array;
    expect(decodeEntry(key, entry)).toEqual(output);
    const plain = encodeEntry(key, { ...output, dependencies: undefined }) as Uint8Array;
    expect(decodeEntry(key, plain)).toEqual({ ...output, dependencies: undefined });
  });

  test("any flipped byte, a truncation or another key fails the check", () => {
    const entry = encodeEntry(key, output) as Uint8Array;
    for (let offset = 0; offset < entry.length; offset++) {
      const damaged = new Uint8Array(entry);
      damaged[offset] = (damaged[offset] as number) ^ 0x01;
      expect(decodeEntry(key, damaged)).toBeUndefined();
    }
    expect(decodeEntry(key, entry.subarray(0, entry.length - 1))).toBeUndefined();
    expect(decodeEntry(key, new Uint8Array(0))).toBeUndefined();
    expect(decodeEntry(new Uint8Array(32), entry)).toBeUndefined();
  });
});
