/**
 * The probe's pure parts: HOST:PORT parsing, the ELF header, and the protocol-2 reply read
 * with the server's own decoder, split at every byte as a socket may deliver it.
 */
import { describe, expect, test } from "bun:test";
import { compress } from "../../src/lzo/lzo1x.ts";
import { readElfHeader } from "../../src/probe/elf.ts";
import { ReplyReader } from "../../src/probe/reply.ts";
import { parseTarget } from "../../src/probe/target.ts";
import { encodeBody, encodeHeader } from "../../src/protocol/index.ts";

describe("parseTarget", () => {
  test.each([
    ["distcc.build.svc:3632", { host: "distcc.build.svc", port: 3632 }],
    ["10.1.2.3:30362", { host: "10.1.2.3", port: 30362 }],
    ["[fd00::1]:3632", { host: "fd00::1", port: 3632 }],
    ["localhost", { host: "localhost", port: 3632 }],
  ])("%s", (text, target) => expect(parseTarget(text)).toEqual(target));

  test.each(["fd00::1:3632", "host:0", "host:65536", "[x]:1", ":3632", "a b:1"])("%s is refused", (text) => {
    expect(() => parseTarget(text)).toThrow("not HOST:PORT");
  });
});

describe("readElfHeader", () => {
  const header = (cls: number, data: number, type: number, machine: number) => {
    const bytes = new Uint8Array(64);
    bytes.set([0x7f, 0x45, 0x4c, 0x46, cls, data, 1]);
    const view = new DataView(bytes.buffer);
    view.setUint16(16, type, data === 1);
    view.setUint16(18, machine, data === 1);
    return bytes;
  };

  test.each<[Uint8Array, ReturnType<typeof readElfHeader>]>([
    [header(1, 2, 1, 20), { machine: "PowerPC", bits: 32, endian: "big-endian", type: "relocatable object" }],
    [header(2, 1, 1, 62), { machine: "x86-64", bits: 64, endian: "little-endian", type: "relocatable object" }],
    [header(2, 1, 3, 183), { machine: "AArch64", bits: 64, endian: "little-endian", type: "shared object" }],
    [header(2, 2, 1, 9999), { machine: "machine 9999", bits: 64, endian: "big-endian", type: "relocatable object" }],
  ])("%#", (bytes, summary) => expect(readElfHeader(bytes)).toEqual(summary));

  test.each([new Uint8Array(0), new TextEncoder().encode("#!/bin/sh\necho not an object\n"), header(3, 1, 1, 62), header(1, 0, 1, 20)])(
    "not ELF: %#",
    (bytes) => expect(readElfHeader(bytes)).toBeUndefined(),
  );
});

describe("ReplyReader", () => {
  const object = new Uint8Array([
    0x7f,
    0x45,
    0x4c,
    0x46,
    ...new TextEncoder().encode("an object body, long enough to compress ".repeat(4)),
  ]);
  const reply = Buffer.concat([
    encodeHeader("DONE", 2),
    encodeHeader("STAT", 0),
    ...encodeBody("SERR", compress(new TextEncoder().encode("a warning\n"))),
    ...encodeBody("SOUT", new Uint8Array(0)),
    ...encodeBody("DOTO", compress(object)),
  ]);

  test("reads the same reply however the socket splits it", () => {
    for (let cut = 0; cut <= reply.length; cut++) {
      const reader = new ReplyReader();
      reader.push(new Uint8Array(reply.subarray(0, cut)));
      expect(reader.complete).toBe(cut === reply.length);
      reader.push(new Uint8Array(reply.subarray(cut)));
      expect(reader.complete).toBe(true);
      expect(reader.result()).toEqual({ status: 0, stderr: "a warning\n", object });
    }
  });

  test.each<[string, Uint8Array, string]>([
    ["another protocol", encodeHeader("DONE", 1), "the server answered in protocol 1, not 2"],
    ["tokens out of order", Buffer.concat([encodeHeader("DONE", 2), encodeHeader("DOTO", 0)]), "expected STAT in the reply, got DOTO"],
  ])("refuses %s", (_name, bytes, message) => {
    expect(() => new ReplyReader().push(bytes)).toThrow(message);
  });
});
