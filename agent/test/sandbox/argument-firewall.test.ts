/** The argument firewall, as a pure function over scanned arguments: what it refuses, what it rewrites, what it leaves alone. */
import { describe, expect, test } from "bun:test";
import type { JobRefusedError } from "../../src/errors.ts";
import { scanArgs } from "../../src/job/argv.ts";
import { guardArguments, type InputKind } from "../../src/sandbox/argument-firewall.ts";

const gcc = (...args: string[]) => ["gcc", ...args, "-c", "x.c", "-o", "x.o"];
const guard = (argv: string[], input: InputKind = "preprocessed") => guardArguments(scanArgs(argv), input).argv;

function refusal(argv: string[], input: InputKind = "preprocessed"): string | undefined {
  try {
    guard(argv, input);
    return undefined;
  } catch (error) {
    return (error as JobRefusedError).code;
  }
}

describe("refused, on every protocol", () => {
  test.each([
    [gcc("@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-Wa,--32,@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-Wp,@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-Wl,@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-Xassembler", "@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-Xpreprocessor", "@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-MF", "@/etc/passwd"), "E_FIREWALL_RESPONSE_FILE"],
    [gcc("-B/tmp/evil/"), "E_FIREWALL_PROGRAM_PREFIX"],
    [gcc("-B", "/tmp/evil/"), "E_FIREWALL_PROGRAM_PREFIX"],
    [gcc("--prefix=/tmp/evil/"), "E_FIREWALL_PROGRAM_PREFIX"],
    [gcc("--prefix", "/tmp/evil/"), "E_FIREWALL_PROGRAM_PREFIX"],
    [gcc("-iplugindir=/tmp/evil"), "E_FIREWALL_PROGRAM_PREFIX"],
    [gcc("-aux-info", "/tmp/aux"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-save-temps"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-save-temps=obj"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-dumpdir", "/tmp/"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-dumpbase", "/tmp/x"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-fdump-tree-original=/tmp/dump"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-fdump-rtl-expand=dump.txt"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-MF", "/tmp/x.d"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-MF../x.d"), "E_FIREWALL_OUTPUT_PATH"],
    [gcc("-Wp,-MD,/tmp/x.d"), "E_FIREWALL_OUTPUT_PATH"],
  ])("%j: %s", (argv, code) => {
    expect(refusal(argv)).toBe(code);
    expect(refusal(argv, "pump")).toBe(code);
  });
});

describe("left alone", () => {
  test.each(
    [
      gcc("-O2", "-g", "-Wall", "-fPIC"),
      gcc("-MD", "-MF", "deps/x.d", "-MT", "/abs/target.o"),
      gcc("-Wp,-MD,.deps/x.d"),
      gcc("-Wa,--noexecstack"),
      gcc("-fdump-tree-original"),
      gcc("-fdump-tree-all=stderr"),
      gcc("-dumpbase", "unit"),
      gcc("-Xassembler", "--noexecstack"),
      gcc("-fno-builtin"),
    ].map((argv) => [argv]),
  )("%j", (argv) => {
    expect(guard(argv)).toEqual(argv);
  });
});

describe("-x on protocols 1 and 2: the server never preprocesses", () => {
  test.each([
    ["c", "cpp-output"],
    ["c++", "c++-cpp-output"],
    ["objective-c", "objective-c-cpp-output"],
    ["objective-c++", "objective-c++-cpp-output"],
  ])("-x %s becomes -x %s, separate or joined", (language, preprocessed) => {
    expect(guard(gcc("-x", language))).toEqual(gcc("-x", preprocessed));
    expect(guard(gcc(`-x${language}`))).toEqual(gcc(`-x${preprocessed}`));
  });

  test("pump mode preprocesses on the server, so -x stays", () => {
    expect(guard(gcc("-x", "c++"), "pump")).toEqual(gcc("-x", "c++"));
  });
});
