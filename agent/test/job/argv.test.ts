import { describe, expect, test } from "bun:test";
import { JobRefusedError } from "../../src/errors.ts";
import { preprocessedExtension, rewriteArgs, scanArgs } from "../../src/job/argv.ts";

const cc = "powerpc-unknown-linux-gnu-gcc";

describe("scanArgs finds input and output", () => {
  test.each([
    ["-o FILE", [cc, "-c", "a.c", "-o", "out/a.o"], "a.c", "out/a.o", { kind: "separate", index: 4 }],
    ["-oFILE", [cc, "-c", "a.c", "-oa.o"], "a.c", "a.o", { kind: "joined", index: 3 }],
    ["a bare .o", [cc, "-c", "a.c", "a.o"], "a.c", "a.o", { kind: "bare", index: 3 }],
    ["no output with -c", [cc, "-c", "dir/a.cpp"], "dir/a.cpp", "a.o", { kind: "none" }],
    ["no output with -S", [cc, "-S", "a.c"], "a.c", "a.s", { kind: "none" }],
    ["-MF and -MT take the next argument", [cc, "-MD", "-MF", "x.c", "-MT", "y.o", "-c", "a.c"], "a.c", "a.o", { kind: "none" }],
    ["-x c with a source", [cc, "-x", "c", "-c", "a.c", "-o", "/dev/null"], "a.c", "/dev/null", { kind: "separate", index: 6 }],
  ] as const)("%s", (_name, argv, input, output, outputForm) => {
    const scanned = scanArgs(argv);
    expect({ input: scanned.input, output: scanned.output, outputForm: scanned.outputForm }).toEqual({ input, output, outputForm });
  });
});

describe("scanArgs refuses what must not run remotely", () => {
  test.each([
    ["an option as compiler", ["-c", "a.c"], "E_ARGS_COMPILER"],
    ["-E", [cc, "-E", "a.c"], "E_ARGS_LOCAL"],
    ["-M", [cc, "-M", "-c", "a.c"], "E_ARGS_LOCAL"],
    ["no -c or -S (a link)", [cc, "a.c", "-o", "a"], "E_ARGS_NOT_COMPILE"],
    ["no input", [cc, "-c", "-o", "a.o"], "E_ARGS_INPUT"],
    ["two inputs", [cc, "-c", "a.c", "b.c"], "E_ARGS_INPUT"],
    ["two outputs", [cc, "-c", "a.c", "-o", "a.o", "-o", "b.o"], "E_ARGS_OUTPUT"],
    ["output to stdout", [cc, "-c", "a.c", "-o", "-"], "E_ARGS_OUTPUT"],
    ["-o as the last argument", [cc, "-c", "a.c", "-o"], "E_ARGS_OUTPUT"],
    ["an autoconf test", [cc, "-c", "conftest.c"], "E_ARGS_LOCAL"],
    ["-march=native", [cc, "-march=native", "-c", "a.c"], "E_ARGS_LOCAL"],
    ["profile feedback", [cc, "-fprofile-use", "-c", "a.c"], "E_ARGS_LOCAL"],
    ["an unknown language", [cc, "-x", "fortran", "-c", "a.c"], "E_ARGS_LANGUAGE"],
    ["-fplugin=", [cc, "-fplugin=/tmp/evil.so", "-c", "a.c"], "E_ARGS_INSECURE"],
    ["-specs=", [cc, "-specs=/tmp/evil.specs", "-c", "a.c"], "E_ARGS_INSECURE"],
    ["-wrapper", [cc, "-wrapper", "/bin/sh,-c,id", "-c", "a.c"], "E_ARGS_INSECURE"],
  ] as const)("%s", (_name, argv, code) => {
    let caught: unknown;
    try {
      scanArgs(argv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(JobRefusedError);
    expect((caught as JobRefusedError).code).toBe(code);
  });
});

describe("rewriteArgs points the compiler at the job's files", () => {
  test.each([
    [
      [cc, "-O2", "-c", "a.c", "-o", "a.o"],
      [cc, "-O2", "-c", "/j/input.i", "-o", "/j/output.o"],
    ],
    [
      [cc, "-c", "a.c", "-oa.o"],
      [cc, "-c", "/j/input.i", "-o/j/output.o"],
    ],
    [
      [cc, "-c", "a.c", "a.o"],
      [cc, "-c", "/j/input.i", "-o", "/j/output.o"],
    ],
    [
      [cc, "-c", "a.c"],
      [cc, "-c", "/j/input.i", "-o", "/j/output.o"],
    ],
  ])("%j", (argv, expected) => {
    expect(rewriteArgs(scanArgs(argv), "/j/input.i", "/j/output.o")).toEqual(expected);
  });
});

test.each([
  ["a.c", ".i"],
  ["a.i", ".i"],
  ["a.cpp", ".ii"],
  ["a.C", ".ii"],
  ["a.cc", ".ii"],
  ["a.m", ".mi"],
  ["a.mm", ".mii"],
  ["a.S", ".s"],
])("the preprocessed temp input for %s ends in %s", (input, extension) => {
  expect(preprocessedExtension(input)).toBe(extension);
});
