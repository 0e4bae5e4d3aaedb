import { describe, expect, test } from "bun:test";
import type { AgentError } from "../../src/errors.ts";
import { Decoder } from "../../src/protocol/decoder.ts";
import { encodeArgv, encodeBody, encodeHeader } from "../../src/protocol/encode.ts";
import { type RequestEvent, RequestParser } from "../../src/protocol/request.ts";
import { compileRequest, concat } from "../helpers/tokens.ts";

const encoder = new TextEncoder();

function parse(bytes: Uint8Array): { events: RequestEvent[]; complete: boolean } {
  const decoder = new Decoder({ maxStringBytes: 4096, maxBulkBytes: 1 << 20 });
  const parser = new RequestParser({ maxArgc: 16, maxFiles: 4 });
  const events: RequestEvent[] = [];
  decoder.push(bytes);
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
    const event = parser.feed(frame);
    if (event) events.push(event.kind === "source-chunk" || event.kind === "file-chunk" ? { ...event, bytes: event.bytes.slice() } : event);
  }
  return { events, complete: parser.complete };
}

function errorCode(bytes: Uint8Array): string | undefined {
  try {
    parse(bytes);
  } catch (error) {
    return (error as AgentError).code;
  }
  return undefined;
}

describe("protocol 1 and 2 requests", () => {
  test.each([1, 2] as const)("protocol %d: version, argv, then the source", (version) => {
    const request = concat([encodeHeader("DIST", version), ...encodeArgv(["cc", "-c", "a.c"]), ...encodeBody("DOTI", encoder.encode("x"))]);
    expect(parse(request)).toEqual({
      events: [
        { kind: "version", version },
        { kind: "argv", argv: ["cc", "-c", "a.c"] },
        { kind: "source-start", length: 1 },
        { kind: "source-chunk", bytes: encoder.encode("x") },
        { kind: "source-end" },
      ],
      complete: true,
    });
  });

  test("is not complete before the source has arrived", () => {
    expect(parse(compileRequest(1, ["cc", "-c", "a.c"], "int x;").slice(0, -3)).complete).toBe(false);
  });

  test.each([
    ["version 4", concat([encodeHeader("DIST", 4)]), "E_PROTOCOL_VERSION"],
    ["version 0", concat([encodeHeader("DIST", 0)]), "E_PROTOCOL_VERSION"],
    ["ARGC 0 (crashes the C 3.4 server)", concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 0)]), "E_PROTOCOL_ARGC"],
    ["ARGC beyond the limit", concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 17)]), "E_LIMIT_ARGC"],
    ["an empty compiler name", concat([encodeHeader("DIST", 1), ...encodeArgv([""])]), "E_PROTOCOL_ARGV"],
    ["a NUL inside an argument", concat([encodeHeader("DIST", 1), ...encodeArgv(["cc\0sh"])]), "E_PROTOCOL_NUL"],
    [
      "an argument that is not UTF-8",
      concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 1), ...encodeBody("ARGV", new Uint8Array([0xff, 0xfe]))]),
      "E_PROTOCOL_ENCODING",
    ],
    ["DOTI before ARGC", concat([encodeHeader("DIST", 1), ...encodeBody("DOTI", encoder.encode("x"))]), "E_PROTOCOL_ORDER"],
    ["a token after the end", concat([compileRequest(1, ["cc", "-c", "a.c"], "x"), encodeHeader("ARGC", 1)]), "E_PROTOCOL_TRAILING"],
    [
      "NFIL beyond the limit",
      concat([encodeHeader("DIST", 3), ...encodeBody("CDIR", encoder.encode("/src")), ...encodeArgv(["cc"]), encodeHeader("NFIL", 5)]),
      "E_LIMIT_FILES",
    ],
  ])("refuses %s", (_name, bytes, code) => {
    expect(errorCode(bytes)).toBe(code);
  });
});

describe("protocol 3 requests", () => {
  test("cwd, argv, then files and links in turn", () => {
    const request = concat([
      encodeHeader("DIST", 3),
      ...encodeBody("CDIR", encoder.encode("/home/u/src")),
      ...encodeArgv(["cc", "-c", "a.c"]),
      encodeHeader("NFIL", 2),
      ...encodeBody("NAME", encoder.encode("/home/u/src/a.c")),
      ...encodeBody("FILE", encoder.encode("zz")),
      ...encodeBody("NAME", encoder.encode("/usr/include")),
      ...encodeBody("LINK", encoder.encode("../../usr/include")),
    ]);
    expect(parse(request)).toEqual({
      events: [
        { kind: "version", version: 3 },
        { kind: "cwd", path: "/home/u/src" },
        { kind: "argv", argv: ["cc", "-c", "a.c"] },
        { kind: "file-start", name: "/home/u/src/a.c", length: 2 },
        { kind: "file-chunk", bytes: encoder.encode("zz") },
        { kind: "file-end" },
        { kind: "link", name: "/usr/include", target: "../../usr/include" },
      ],
      complete: true,
    });
  });

  test("anything but FILE or LINK after NAME is a derailment", () => {
    const request = concat([
      encodeHeader("DIST", 3),
      ...encodeBody("CDIR", encoder.encode("/")),
      ...encodeArgv(["cc"]),
      encodeHeader("NFIL", 1),
      ...encodeBody("NAME", encoder.encode("/a")),
      ...encodeBody("ARGV", encoder.encode("x")),
    ]);
    expect(errorCode(request)).toBe("E_PROTOCOL_ORDER");
  });
});
