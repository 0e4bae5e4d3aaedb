import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findCompiler, loadCompilerWhitelist } from "../src/compiler-whitelist.ts";
import { ConfigError } from "../src/errors.ts";

const root = mkdtempSync(join(tmpdir(), "whitelist-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bin = join(root, "bin");
mkdirSync(bin);
for (const name of ["cross-gcc", "cross-g++"]) {
  writeFileSync(join(bin, name), "#!/bin/sh\n");
  chmodSync(join(bin, name), 0o755);
}
writeFileSync(join(bin, "not-executable"), "");
const wrappers = join(root, "wrappers");
mkdirSync(wrappers);
symlinkSync("/usr/bin/distcc", join(wrappers, "cross-gcc"));
const file = join(root, "whitelist");
writeFileSync(file, "# compilers\ncross-gcc\n/usr/bin/cross-g++  # full paths under /usr/bin are names too\nmissing-cc\n");
const path = `${wrappers}:${bin}`;

describe("a whitelist file alone decides", () => {
  const whitelist = loadCompilerWhitelist({ file, insecure: false, path, env: {} });

  test("lists its names", () => {
    expect(whitelist.names).toEqual(["cross-gcc", "cross-g++", "missing-cc"]);
  });

  test.each([
    ["cross-gcc", { allowed: true, name: "cross-gcc", path: join(bin, "cross-gcc") }],
    ["/usr/bin/cross-g++", { allowed: true, name: "cross-g++", path: join(bin, "cross-g++") }],
    ["/BIN/cross-gcc", { allowed: true, name: "cross-gcc", path: join(bin, "cross-gcc") }],
    ["missing-cc", { allowed: true, name: "missing-cc", path: undefined }],
  ] as const)("%s is allowed and resolved past distcc wrappers", (argv0, decision) => {
    expect(whitelist.check(argv0)).toEqual(decision);
  });

  test.each(["sh", "gcc", "/usr/local/bin/cross-gcc", "../bin/cross-gcc"])("%s is refused with the file named", (argv0) => {
    const decision = whitelist.check(argv0);
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.reason).toContain(file);
  });
});

test("a whitelist entry that is a path is a ConfigError", () => {
  const bad = join(root, "bad-whitelist");
  writeFileSync(bad, "/opt/cc\n");
  expect(() => loadCompilerWhitelist({ file: bad, insecure: false, path, env: {} })).toThrow(ConfigError);
});

test("a missing --whitelist file is a ConfigError", () => {
  expect(() => loadCompilerWhitelist({ file: join(root, "nope"), insecure: false, path, env: {} })).toThrow(ConfigError);
});

describe("DISTCC_CMDLIST", () => {
  const list = join(root, "cmdlist");
  writeFileSync(list, `${join(bin, "cross-gcc")}\n`);

  test("maps a name to the listed full path", () => {
    const whitelist = loadCompilerWhitelist({ file: undefined, insecure: false, path, env: { DISTCC_CMDLIST: list } });
    expect(whitelist.check("cross-gcc")).toEqual({ allowed: true, name: join(bin, "cross-gcc"), path: join(bin, "cross-gcc") });
    expect(whitelist.check("cross-g++").allowed).toBe(false);
  });

  test("an unreadable list refuses everything (the C server would allow everything)", () => {
    const whitelist = loadCompilerWhitelist({ file: undefined, insecure: false, path, env: { DISTCC_CMDLIST: join(root, "absent") } });
    const decision = whitelist.check("cross-gcc");
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.reason).toContain("cannot read");
  });
});

test("--enable-tcp-insecure lifts the name check, paths included", () => {
  const whitelist = loadCompilerWhitelist({ file, insecure: true, path, env: {} });
  expect(whitelist.check("/bin/true")).toEqual({ allowed: true, name: "/bin/true", path: "/bin/true" });
  expect(whitelist.check("cross-g++")).toEqual({ allowed: true, name: "cross-g++", path: join(bin, "cross-g++") });
});

test("findCompiler skips non-executables and distcc masquerade links", () => {
  expect(findCompiler("not-executable", path)).toBeUndefined();
  expect(findCompiler("cross-gcc", path)).toBe(join(bin, "cross-gcc"));
});
