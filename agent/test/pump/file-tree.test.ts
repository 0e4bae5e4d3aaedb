import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobRefusedError, LimitError } from "../../src/errors.ts";
import { clientPathComponents, FileTree, resolveLexically } from "../../src/pump/file-tree.ts";

const base = mkdtempSync(join(tmpdir(), "file-tree-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let count = 0;
const tree = (maxTotalBytes = 1 << 20) => new FileTree(join(base, `root${count++}`), { maxPathBytes: 256, maxTotalBytes });
/** A budget as the server's: reservations past `limit` are refused. */
function budget(limit: number) {
  return {
    used: 0,
    reserve(bytes: number) {
      if (this.used + bytes > limit) return false;
      this.used += bytes;
      return true;
    },
    release(bytes: number) {
      this.used -= bytes;
    },
  };
}
const heldTree = (maxTotalBytes = 1 << 20, hold = budget(1 << 20)) =>
  new FileTree(join(base, `root${count++}`), { maxPathBytes: 256, maxTotalBytes }, undefined, hold);

function refusal(step: () => void): string | undefined {
  try {
    step();
  } catch (error) {
    if (error instanceof JobRefusedError || error instanceof LimitError) return error.code;
    throw error;
  }
  return undefined;
}

describe("client paths", () => {
  test.each([
    ["/a/b.h", ["a", "b.h"]],
    ["//a///b.h/", ["a", "b.h"]],
    ["/", []],
  ])("%s -> %j", (path, parts) => {
    expect(clientPathComponents(path, "NAME", 256)).toEqual(parts);
  });

  test.each(["a/b.h", "/a/../b", "/a/./b", "/..", ""])("%j is refused", (path) => {
    expect(refusal(() => clientPathComponents(path, "NAME", 256))).toBe("E_PUMP_PATH");
  });

  test.each([
    [["usr", "lib"], "../include", { inside: ["usr", "include"] }],
    [["a"], "/x/y", { inside: ["x", "y"] }],
    [["usr", "lib"], "../../../../usr/include", { escaped: "/usr/include" }],
    [[], "..", { escaped: "/" }],
    [["a", "b"], "c/../../d", { inside: ["a", "d"] }],
  ] as [string[], string, { inside: string[] } | { escaped: string }][])("from /%j, %s resolves to %j", (from, target, expected) => {
    expect(resolveLexically(from, target)).toEqual(expected);
  });
});

describe("FileTree", () => {
  test("writes files and creates their directories under the root", () => {
    const t = tree();
    t.writeFile("/home/u/src/a.c", new TextEncoder().encode("int a;"));
    expect(readFileSync(join(t.root, "home/u/src/a.c"), "utf8")).toBe("int a;");
    expect(t.makeWorkingDirectory("/home/u/src")).toBe(join(t.root, "home/u/src"));
  });

  test("links inside the root point inside the root", () => {
    const t = tree();
    t.writeFile("/src/real.h", new Uint8Array(0));
    t.addLink("/src/alias.h", "real.h");
    t.addLink("/abs.h", "/src/real.h");
    t.finish();
    expect(readlinkSync(join(t.root, "src/alias.h"))).toBe(join(t.root, "src/real.h"));
    expect(readlinkSync(join(t.root, "abs.h"))).toBe(join(t.root, "src/real.h"));
  });

  test("a system directory mirror points at this server's directory", () => {
    const t = tree();
    t.addLink("/usr/include", `${"../".repeat(20)}usr/include`);
    expect(readlinkSync(join(t.root, "usr/include"))).toBe("/usr/include");
  });

  test("a mirror of a directory this server lacks (a client on another distribution) dangles, as under C", () => {
    const t = tree();
    t.addLink("/usr/lib/gcc-cross/ppc/99/include", `${"../".repeat(20)}usr/lib/gcc-cross/ppc/99/include`);
    expect(readlinkSync(join(t.root, "usr/lib/gcc-cross/ppc/99/include"))).toBe("/usr/lib/gcc-cross/ppc/99/include");
  });

  test.each<[string, (t: FileTree) => void, string]>([
    ["an escaping absolute link", (t) => t.addLink("/a", "/../../etc"), "E_PUMP_LINK"],
    ["an escaping relative link to another path", (t) => t.addLink("/usr/include", "../../../../etc"), "E_PUMP_LINK"],
    ["an empty link target", (t) => t.addLink("/a", ""), "E_PUMP_LINK"],
    [
      "a file through a mirrored link",
      (t) => {
        t.addLink("/usr/include", "../../../../../usr/include");
        t.writeFile("/usr/include/evil.h", new Uint8Array(1));
      },
      "E_PUMP_SYMLINK",
    ],
    [
      "a file through a link inside the root",
      (t) => {
        t.writeFile("/d/x", new Uint8Array(0));
        t.addLink("/e", "d");
        t.writeFile("/e/y", new Uint8Array(1));
      },
      "E_PUMP_SYMLINK",
    ],
    [
      "a duplicate name",
      (t) => {
        t.writeFile("/a", new Uint8Array(0));
        t.writeFile("//a", new Uint8Array(0));
      },
      "E_PUMP_DUPLICATE",
    ],
    [
      "a link over an existing directory",
      (t) => {
        t.writeFile("/d/x", new Uint8Array(0));
        t.addLink("/d", "x");
      },
      "E_PUMP_PATH",
    ],
    [
      "a symlink chain",
      (t) => {
        t.addLink("/a", "b");
        t.addLink("/b", "c");
        t.finish();
      },
      "E_PUMP_LINK",
    ],
    ["a name over the length limit", (t) => t.writeFile(`/${"x".repeat(300)}`, new Uint8Array(0)), "E_PUMP_PATH_LENGTH"],
    ["the root itself", (t) => t.writeFile("/", new Uint8Array(0)), "E_PUMP_PATH"],
    ["files beyond the byte limit", (t) => t.writeFile("/big", new Uint8Array(2048)), "E_LIMIT_PUMP_BYTES"],
  ])("refuses %s", (_name, steps, code) => {
    const t = tree(1024);
    expect(refusal(() => steps(t))).toBe(code);
    expect(existsSync("/usr/include/evil.h")).toBe(false);
    // Held in memory, the tree refuses the same entry, before anything reaches the disk.
    const held = heldTree(1024);
    expect(refusal(() => steps(held))).toBe(code);
    expect(existsSync(held.root)).toBe(false);
  });

  test("a file over a directory is refused", () => {
    for (const t of [tree(), heldTree()]) {
      t.writeFile("/d/x", new Uint8Array(0));
      expect(refusal(() => t.writeFile("/d", new Uint8Array(0)))).toBe("E_PUMP_PATH");
    }
  });

  test("a refused traversal writes nothing outside the root", () => {
    const t = tree();
    const outside = join(base, "outside");
    expect(refusal(() => t.writeFile(`/../../../..${outside}`, new Uint8Array(1)))).toBe("E_PUMP_PATH");
    expect(existsSync(outside)).toBe(false);
    expect(lstatSync(t.root).isDirectory()).toBe(true);
  });
});

describe("a tree held in memory", () => {
  test("writes nothing until materialized, then the same tree as one written at once", () => {
    const hold = budget(1 << 20);
    const t = heldTree(1 << 20, hold);
    const source = new TextEncoder().encode("int a;");
    const cwd = t.makeWorkingDirectory("/home/u/src");
    t.writeFile("/home/u/src/a.c", source);
    // The caller's buffer is lent: overwriting it afterwards changes nothing held.
    source.fill(0);
    t.addLink("/usr/include", `${"../".repeat(20)}usr/include`);
    t.addLink("/home/u/src/alias.c", "a.c");
    t.finish();
    expect(existsSync(t.root)).toBe(false);
    expect(hold.used).toBe(6);
    t.materialize();
    expect(hold.used).toBe(0);
    expect(lstatSync(cwd).isDirectory()).toBe(true);
    expect(readFileSync(join(t.root, "home/u/src/a.c"), "utf8")).toBe("int a;");
    expect(readlinkSync(join(t.root, "usr/include"))).toBe("/usr/include");
    expect(readlinkSync(join(t.root, "home/u/src/alias.c"))).toBe(join(t.root, "home/u/src/a.c"));
    t.writeFile("/late.h", new TextEncoder().encode("x"));
    expect(readFileSync(join(t.root, "late.h"), "utf8")).toBe("x");
    expect(t.remove()).toBe(true);
    expect(existsSync(t.root)).toBe(false);
  });

  test("removed without reaching the disk, it gives its memory back", () => {
    const hold = budget(1 << 20);
    const t = heldTree(1 << 20, hold);
    t.writeFile("/a/b.h", new Uint8Array(100));
    expect(t.remove()).toBe(true);
    expect(hold.used).toBe(0);
    expect(existsSync(t.root)).toBe(false);
  });

  test("past its memory budget, it goes to disk and writes as it goes", () => {
    const hold = budget(150);
    const t = heldTree(1 << 20, hold);
    t.writeFile("/a/one.h", new Uint8Array(100));
    expect(existsSync(t.root)).toBe(false);
    t.writeFile("/a/two.h", new Uint8Array(100));
    expect(hold.used).toBe(0);
    expect(readFileSync(join(t.root, "a/one.h")).length).toBe(100);
    expect(readFileSync(join(t.root, "a/two.h")).length).toBe(100);
    expect(t.remove()).toBe(true);
  });

  test("what the disk refuses is refused when materialized", () => {
    // A component longer than the file system's NAME_MAX (255), within the path limit.
    const t = new FileTree(join(base, `root${count++}`), { maxPathBytes: 4096, maxTotalBytes: 1024 }, undefined, budget(1024));
    t.writeFile("/ok.h", new Uint8Array(1));
    t.writeFile(`/${"z".repeat(300)}`, new Uint8Array(1));
    expect(refusal(() => t.materialize())).toBe("E_PUMP_PATH");
    expect(t.remove()).toBe(true);
    expect(existsSync(t.root)).toBe(false);
  });
});

describe("removal", () => {
  test("everything the tree created goes, the root included", () => {
    const t = tree();
    t.makeWorkingDirectory("/home/me/src");
    t.writeFile("/home/me/src/a.c", new TextEncoder().encode("int a;\n"));
    t.writeFile("/home/me/include/deep/b.h", new TextEncoder().encode("int b;\n"));
    t.addLink("/usr/include", `${"../".repeat(20)}usr/include`);
    t.addLink("/home/me/src/link.h", "../include/deep/b.h");
    t.finish();
    expect(t.remove()).toBe(true);
    expect(existsSync(t.root)).toBe(false);
  });

  test("a file the tree did not create is left for the caller, and says so", () => {
    const t = tree();
    t.writeFile("/src/a.c", new TextEncoder().encode("int a;\n"));
    writeFileSync(join(t.root, "src/a.gcno"), "compiler output");
    expect(t.remove()).toBe(false);
    expect(readdirSync(join(t.root, "src"))).toEqual(["a.gcno"]);
  });
});
