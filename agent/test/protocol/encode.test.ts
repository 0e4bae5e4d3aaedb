import { expect, test } from "bun:test";
import { encodeArgv, encodeBody, encodeHeader } from "../../src/protocol/encode.ts";
import { concat } from "../helpers/tokens.ts";

const text = (bytes: Uint8Array | Uint8Array[]) => new TextDecoder().decode(Array.isArray(bytes) ? concat(bytes) : bytes);

test.each([
  ["DONE", 2, "DONE00000002"],
  ["STAT", 0x6e00, "STAT00006e00"],
  ["DOTO", 0xffffffff, "DOTOffffffff"],
])("%s %d is written as %s (lowercase hex)", (token, value, expected) => {
  expect(text(encodeHeader(token, value))).toBe(expected);
});

test("a body follows its length; an empty body is the header alone", () => {
  expect(text(encodeBody("SERR", new TextEncoder().encode("oops\n")))).toBe("SERR00000005oops\n");
  expect(encodeBody("SOUT", new Uint8Array(0))).toEqual([new TextEncoder().encode("SOUT00000000")]);
});

test("argv is ARGC then one ARGV per element, as captured from the real client", () => {
  expect(text(encodeArgv(["powerpc-linux-gnu-gcc", "-O2"]))).toBe("ARGC00000002ARGV00000015powerpc-linux-gnu-gccARGV00000003-O2");
});
