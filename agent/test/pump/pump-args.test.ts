import { expect, test } from "bun:test";
import { scanArgs } from "../../src/job/argv.ts";
import { rewritePumpArgs } from "../../src/pump/pump-args.ts";

const R = "/tmp/d/root";
const rewrite = (argv: string[]) => rewritePumpArgs(scanArgs(argv), R, "/tmp/d/output.o", "/tmp/d/output.d");

test.each([
  [
    "the capture's request: -MT is turned into the .d target, -MF added",
    ["gcc", "-MD", "-c", "hello.c", "-o", "hello.o", "-MT", "hello.o"],
    ["gcc", "-MD", "-c", "hello.c", "-o", "/tmp/d/output.o", "-MF", "/tmp/d/output.d"],
    "hello.o",
  ],
  [
    "absolute include paths, joined and separate, move under the root",
    ["gcc", "-I/x/inc", "-I", "/x/inc2", "-isystem/x/sys", "-iquote", "rel", "-include", "/x/pre.h", "-c", "/x/m.c"],
    [
      "gcc",
      `-I${R}/x/inc`,
      "-I",
      `${R}/x/inc2`,
      `-isystem${R}/x/sys`,
      "-iquote",
      "rel",
      "-include",
      `${R}/x/pre.h`,
      "-c",
      `${R}/x/m.c`,
      "-o",
      "/tmp/d/output.o",
      "-MMD",
      "-MF",
      "/tmp/d/output.d",
    ],
    "m.o",
  ],
  [
    "-iwithprefixbefore is not mistaken for -iwithprefix",
    ["gcc", "-iwithprefixbefore/p", "-c", "m.c", "-o", "m.o"],
    ["gcc", `-iwithprefixbefore${R}/p`, "-c", "m.c", "-o", "/tmp/d/output.o", "-MMD", "-MF", "/tmp/d/output.d"],
    "m.o",
  ],
  [
    "a client -MF is overridden by the last -MF",
    ["gcc", "-MMD", "-MF", "m.d", "-c", "m.c"],
    ["gcc", "-MMD", "-MF", "m.d", "-c", "m.c", "-o", "/tmp/d/output.o", "-MF", "/tmp/d/output.d"],
    "m.o",
  ],
])("%s", (_name, argv, command, target) => {
  expect(rewrite(argv)).toEqual({ command, dependencyTarget: target });
});
