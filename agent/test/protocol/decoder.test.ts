import { describe, expect, test } from "bun:test";
import { LimitError, ProtocolError } from "../../src/errors.ts";
import { Decoder, type Frame } from "../../src/protocol/decoder.ts";
import { encodeBody, encodeHeader } from "../../src/protocol/encode.ts";
import { compileRequest, concat } from "../helpers/tokens.ts";

const LIMITS = { maxStringBytes: 1024, maxBulkBytes: 1 << 20 };

/** Feeds `bytes` in pieces cut at `cuts`, and merges bulk chunks so results compare whole. */
function decodeAll(bytes: Uint8Array, cuts: number[] = []): Frame[] {
  const decoder = new Decoder(LIMITS);
  const frames: Frame[] = [];
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    decoder.push(bytes.slice(start, end));
    start = end;
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
      const last = frames.at(-1);
      if (frame.kind === "bulk-chunk" && last?.kind === "bulk-chunk") last.bytes = concat([last.bytes, frame.bytes]);
      else frames.push(frame.kind === "bulk-chunk" ? { ...frame, bytes: frame.bytes.slice() } : frame);
    }
  }
  return frames;
}

const request = compileRequest(1, ["gcc", "-c", "hello.c", "-o", "hello.o"], "int x;\n");
const expected: Frame[] = [
  { kind: "value", token: "DIST", value: 1 },
  { kind: "value", token: "ARGC", value: 5 },
  ...["gcc", "-c", "hello.c", "-o", "hello.o"].map((arg) => ({
    kind: "string" as const,
    token: "ARGV",
    bytes: new TextEncoder().encode(arg),
  })),
  { kind: "bulk-start", token: "DOTI", length: 7 },
  { kind: "bulk-chunk", token: "DOTI", bytes: new TextEncoder().encode("int x;\n") },
  { kind: "bulk-end", token: "DOTI" },
];

describe("Decoder", () => {
  test("frames a whole request", () => {
    expect(decodeAll(request)).toEqual(expected);
  });

  test("gives the same frames however the bytes are split", () => {
    for (let cut = 1; cut < request.length; cut++) expect(decodeAll(request, [cut])).toEqual(expected);
  });

  test("gives the same frames when fed one byte at a time", () => {
    expect(
      decodeAll(
        request,
        Array.from({ length: request.length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(expected);
  });

  test("accepts uppercase hex, as the C server's strtoul does", () => {
    expect(decodeAll(new TextEncoder().encode("ARGC0000001F"))).toEqual([{ kind: "value", token: "ARGC", value: 31 }]);
  });

  test("an empty bulk body is a start and an end", () => {
    expect(decodeAll(concat(encodeBody("DOTI", new Uint8Array(0))))).toEqual([
      { kind: "bulk-start", token: "DOTI", length: 0 },
      { kind: "bulk-end", token: "DOTI" },
    ]);
  });

  test("keeps a partial header across pushes even when the caller reuses its buffer", () => {
    const decoder = new Decoder(LIMITS);
    const chunk = encodeHeader("ARGC", 3).slice(0, 6);
    decoder.push(chunk);
    expect(decoder.next()).toBeUndefined();
    chunk.fill(0);
    decoder.push(encodeHeader("ARGC", 3).slice(6));
    expect(decoder.next()).toEqual({ kind: "value", token: "ARGC", value: 3 });
  });

  test("reads on correctly when each chunk (a Buffer, as sockets give) is freed as soon as its frames are read", () => {
    const decoder = new Decoder(LIMITS);
    const frames: Frame[] = [];
    for (let start = 0; start < request.length; start += 5) {
      const piece = request.subarray(start, start + 5);
      const chunk = Buffer.alloc(piece.length);
      chunk.set(piece);
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next())
        frames.push(frame.kind === "bulk-chunk" ? { ...frame, bytes: new Uint8Array(frame.bytes) } : frame);
      (chunk.buffer as ArrayBuffer).transfer(0);
    }
    expect(frames.filter((frame) => frame.kind !== "bulk-chunk")).toEqual(expected.filter((frame) => frame.kind !== "bulk-chunk"));
    expect(concat(frames.flatMap((frame) => (frame.kind === "bulk-chunk" ? [frame.bytes] : [])))).toEqual(
      new TextEncoder().encode("int x;\n"),
    );
  });

  test("discard drops what was pushed and not read, and framing starts afresh", () => {
    const decoder = new Decoder(LIMITS);
    decoder.push(concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 2).slice(0, 7)]));
    expect(decoder.next()).toEqual({ kind: "value", token: "DIST", value: 1 });
    expect(decoder.next()).toBeUndefined();
    decoder.discard();
    decoder.push(encodeHeader("ARGC", 3));
    expect(decoder.next()).toEqual({ kind: "value", token: "ARGC", value: 3 });
    expect(decoder.next()).toBeUndefined();
  });

  test.each([
    ["garbage", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", ProtocolError, "E_PROTOCOL_TOKEN"],
    ["an HTTP request", "GET / HTTP/1.1\r\n", ProtocolError, "E_PROTOCOL_TOKEN"],
    ["bad hex", "DIST0000000g", ProtocolError, "E_PROTOCOL_HEX"],
    ["a sign in the hex", "DIST+0000001", ProtocolError, "E_PROTOCOL_HEX"],
    ["an ARGV longer than the limit", "ARGV00000401", LimitError, "E_LIMIT_STRING"],
    ["a DOTI larger than the limit", "DOTIffffffff", LimitError, "E_LIMIT_BODY"],
  ] as const)("rejects %s", (_name, text, type, code) => {
    const decoder = new Decoder(LIMITS);
    decoder.push(new TextEncoder().encode(text));
    let caught: unknown;
    try {
      decoder.next();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(type);
    expect((caught as ProtocolError).code).toBe(code);
  });
});
