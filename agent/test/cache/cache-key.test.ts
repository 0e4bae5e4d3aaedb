import { describe, expect, test } from "bun:test";
import { cacheKey, compilerEnvironment, normalizeCommand } from "../../src/cache/cache-key.ts";
import { parseCacheSize } from "../../src/cache/cache-size.ts";
import { TreeManifest } from "../../src/cache/tree-manifest.ts";

const source = (text: string) => ({ source: new TextEncoder().encode(text) });
const base = {
  identity: "gcc-identity",
  command: ["gcc", "-O2", "-c", "/distccd-job/input.i"],
  environment: "LANG=C",
  input: source("int x;"),
};
const hex = (parts: Parameters<typeof cacheKey>[0]) => Buffer.from(cacheKey(parts)).toString("hex");

describe("the cache key", () => {
  test.each([
    ["the compiler", { ...base, identity: "other" }],
    ["an argument", { ...base, command: ["gcc", "-O1", "-c", "/distccd-job/input.i"] }],
    ["the environment", { ...base, environment: "LANG=de_DE.UTF-8" }],
    ["the source", { ...base, input: source("int y;") }],
    ["arguments split differently", { ...base, command: ["gcc", "-O2 -c", "/distccd-job/input.i"] }],
  ])("changes with %s", (_name, parts) => {
    expect(hex(parts)).not.toBe(hex(base));
  });

  test("the job's temp dir and the compiler's install path do not change it", () => {
    const a = normalizeCommand(
      ["/usr/bin/gcc", "-c", "/tmp/distccd-agent.1.a/input.i", "-o/tmp/distccd-agent.1.a/output.o"],
      "/tmp/distccd-agent.1.a",
      "/usr/bin/gcc",
      "gcc",
    );
    const b = normalizeCommand(
      ["/opt/bin/gcc", "-c", "/var/tmp/distccd-agent.2.b/input.i", "-o/var/tmp/distccd-agent.2.b/output.o"],
      "/var/tmp/distccd-agent.2.b",
      "/opt/bin/gcc",
      "gcc",
    );
    expect(a).toEqual(["gcc", "-c", "/distccd-job/input.i", "-o/distccd-job/output.o"]);
    expect(b).toEqual(a);
  });

  test("only the variables that can change a compile are in it", () => {
    const env = {
      HOSTNAME: "pod-a",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      PATH: "/usr/bin",
      LANG: "C",
      GCC_COLORS: "",
      LC_ALL: "C",
      SOURCE_DATE_EPOCH: "1",
    };
    expect(compilerEnvironment(env)).toBe("GCC_COLORS=\0LANG=C\0LC_ALL=C\0SOURCE_DATE_EPOCH=1");
  });

  test("a pump tree is keyed by its entries in any order; the time macros make it uncacheable", () => {
    const one = new TreeManifest();
    one.file("/src/a.c", new TextEncoder().encode("int a;"));
    one.link("/usr/include", "../../usr/include", "/usr/include");
    const two = new TreeManifest();
    two.link("/usr/include", "../../usr/include", "/usr/include");
    two.file("/src/a.c", new TextEncoder().encode("int a;"));
    expect(hex({ ...base, input: { cdir: "/src", tree: one } })).toBe(hex({ ...base, input: { cdir: "/src", tree: two } }));
    const changed = new TreeManifest();
    changed.file("/src/a.c", new TextEncoder().encode("int b;"));
    changed.link("/usr/include", "../../usr/include", "/usr/include");
    expect(hex({ ...base, input: { cdir: "/src", tree: changed } })).not.toBe(hex({ ...base, input: { cdir: "/src", tree: one } }));
    expect(one.usesClock).toBe(false);
    one.file("/src/b.h", new TextEncoder().encode("const char *built = __DATE__;"));
    expect(one.usesClock).toBe(true);
  });
});

describe("--cache-size", () => {
  test.each([
    ["2G", 2 * 1024 ** 3],
    ["500M", 500 * 1024 ** 2],
    ["4096k", 4096 * 1024],
    ["1.5G", 1.5 * 1024 ** 3],
    ["1048576", 1048576],
  ])("%s", (text, bytes) => {
    expect(parseCacheSize(text)).toBe(bytes);
  });

  test.each(["", "2T", "-1G", "12q", "100k"])("refuses %p", (text) => {
    expect(() => parseCacheSize(text)).toThrow(/--cache-size/);
  });
});
