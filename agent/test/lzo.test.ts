import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { LzoError } from "../src/errors.ts";
import { compress, decompress, decompressView } from "../src/lzo/lzo1x.ts";

/** liblzo2 through Debian's python3-lzo: the C implementation distcc itself links. */
function oracle(op: "compress" | "decompress", data: Uint8Array, length = 0): Uint8Array {
  const script =
    op === "compress"
      ? "import lzo,sys; sys.stdout.buffer.write(lzo.compress(sys.stdin.buffer.read(), 1, False))"
      : `import lzo,sys; sys.stdout.buffer.write(lzo.decompress(sys.stdin.buffer.read(), False, ${length}))`;
  const result = Bun.spawnSync(["/usr/bin/python3", "-c", script], { stdin: data });
  if (result.exitCode !== 0) throw new Error(result.stderr.toString());
  return new Uint8Array(result.stdout);
}

const text = new TextEncoder().encode(readFileSync("/usr/include/stdio.h", "utf8").repeat(4));
const objectFile = new Uint8Array(readFileSync("/usr/bin/powerpc-linux-gnu-gcc")).subarray(0, 400_000);
const samples: [string, Uint8Array][] = [
  ["C header text", text],
  ["an ELF binary", objectFile],
  ["random bytes", new Uint8Array(randomBytes(150_000))],
  ["zeros", new Uint8Array(200_000)],
  ["one byte", new Uint8Array([7])],
  ["20 bytes (below the block minimum)", new Uint8Array(20).fill(3)],
  ["exactly one 48 KiB block plus 21", new Uint8Array(randomBytes(49_173))],
];

describe("LZO1X-1 against liblzo2", () => {
  test.each(samples)("C output of %s decompresses to the original", (_name, data) => {
    expect(decompress(oracle("compress", data), 1 << 30)).toEqual(data);
  });

  test.each(samples)("our output for %s decompresses in C to the original", (_name, data) => {
    expect(oracle("decompress", compress(data), data.length)).toEqual(data);
  });

  test("decompressView decodes into one buffer it reuses, growing it when a body is larger", () => {
    const small = decompressView(compress(text.subarray(0, 5000)), 1 << 30);
    expect(small).toEqual(text.subarray(0, 5000));
    const again = decompressView(compress(text.subarray(1000, 4000)), 1 << 30);
    expect(again).toEqual(text.subarray(1000, 4000));
    expect(again.buffer).toBe(small.buffer);
    const large = decompressView(compress(objectFile), 1 << 30);
    expect(large).toEqual(objectFile);
    expect(decompressView(compress(text), 1 << 30)).toEqual(text);
  });

  test("compresses into a caller's buffer that is not zeroed, byte for byte as into a new one", () => {
    for (const data of [text, objectFile]) {
      const dirty = (size: number) => new Uint8Array(size).fill(0xa5);
      expect(compress(data, dirty)).toEqual(compress(data));
    }
  });

  test("empty input compresses to nothing, as distcc sends TOKN00000000", () => {
    expect(compress(new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(decompress(new Uint8Array(0), 10)).toEqual(new Uint8Array(0));
  });

  test("compresses text about as well as C", () => {
    expect(compress(text).length).toBeLessThanOrEqual(Math.ceil(oracle("compress", text).length * 1.01));
  });
});

describe("corrupt input", () => {
  const good = compress(text);
  test.each([
    ["truncated", good.subarray(0, good.length - 10), "E_LZO_INPUT_OVERRUN"],
    ["trailing bytes", new Uint8Array([...good, 1, 2]), "E_LZO_TRAILING_DATA"],
    ["a back-reference before the start", new Uint8Array([0x15, 0x41, 0x42, 0x43, 0x44, 0x90, 0xff, 0x11, 0, 0]), "E_LZO_LOOKBEHIND"],
    ["plain text instead of LZO", new TextEncoder().encode("int main(void) { return 0; }\n"), undefined],
  ] as const)("%s is an LzoError", (_name, bytes, code) => {
    let caught: unknown;
    try {
      decompress(bytes, 1 << 30);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LzoError);
    if (code) expect((caught as LzoError).code).toBe(code);
  });

  test("damaged streams either decode or fail with an LzoError, never another error", () => {
    // The word-at-a-time copies must stay inside both buffers whatever the opcodes claim.
    let seed = 7;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % below;
    };
    const streams = [compress(text), compress(objectFile.subarray(0, 60_000))];
    const failures = new Set<string>();
    for (let round = 0; round < 2000; round++) {
      const damaged = (streams[round % 2] as Uint8Array).slice(0, 200 + random(20_000));
      for (let flips = 1 + random(4); flips > 0; flips--) damaged[random(damaged.length)] = random(256);
      try {
        decompress(damaged, 1 << 22);
      } catch (error) {
        failures.add(error instanceof LzoError ? "LzoError" : String(error));
      }
    }
    expect([...failures]).toEqual(["LzoError"]);
  });

  test("output beyond the limit is refused before it is allocated", () => {
    const bomb = compress(new Uint8Array(10_000_000));
    expect(bomb.length).toBeLessThan(50_000);
    expect(() => decompress(bomb, 1_000_000)).toThrow(LzoError);
  });
});
