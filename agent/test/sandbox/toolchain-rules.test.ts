/** What a compiler may read and execute, asked of the real PowerPC gcc and of a wrapper script. */
import { describe, expect, test } from "bun:test";
import { chmodSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FILE_RIGHTS, READ_EXECUTE } from "../../src/sandbox/landlock.ts";
import { interpreterOf, toolchainRules, withoutCovered } from "../../src/sandbox/toolchain-rules.ts";
import { sharedTempDir } from "../helpers/agent.ts";

const gcc = "/usr/bin/powerpc-linux-gnu-gcc";
const tmpDir = sharedTempDir("toolchain-rules-");
const env = { PATH: "/usr/bin:/bin" };

describe("the PowerPC gcc's toolchain", async () => {
  const rules = await toolchainRules(gcc, env, tmpDir);
  const paths = rules.map((rule) => rule.path);
  const granted = (path: string) => paths.some((dir) => path === dir || path.startsWith(`${dir}/`));

  test("covers the driver and every program it runs, resolved", () => {
    for (const program of ["cc1", "as", "collect2"]) {
      const path = Bun.spawnSync([gcc, `-print-prog-name=${program}`])
        .stdout.toString()
        .trim();
      expect(granted(realpathSync(path))).toBe(true);
    }
    expect(granted(realpathSync(gcc))).toBe(true);
  });

  test("covers the system include dirs and the libraries the programs load", () => {
    expect(granted("/usr/powerpc-linux-gnu/include")).toBe(true);
    expect(granted(realpathSync("/etc/ld.so.cache"))).toBe(true);
    expect(granted(realpathSync("/lib64/ld-linux-x86-64.so.2"))).toBe(true);
  });

  test("never grants /, a top-level dir but the library dirs, or the job dirs' parent", () => {
    expect(paths).not.toContain("/");
    expect(
      paths.filter((path) => path.split("/").length === 2).every((path) => /^\/(lib|usr\/lib)/.test(path) || path.startsWith("/lib")),
    ).toBe(true);
    expect(granted(join(tmpDir, "distccd-agent.1.x"))).toBe(false);
    expect(granted("/tmp")).toBe(false);
    expect(granted("/etc/passwd")).toBe(false);
  });

  test("gives files only file rights, dirs read and execute, nothing writable", () => {
    for (const rule of rules) expect(rule.access & ~READ_EXECUTE).toBe(0);
    for (const rule of rules.filter((r) => r.path.endsWith(".so") || /\.so\.\d/.test(r.path))) expect(rule.access & ~FILE_RIGHTS).toBe(0);
  });
});

test("a wrapper script brings its interpreter, and the compiler it runs is found through it", async () => {
  const wrapper = join(tmpDir, "wrapped-gcc");
  writeFileSync(wrapper, `#!/bin/sh\nexec ${gcc} "$@"\n`);
  chmodSync(wrapper, 0o755);
  expect(interpreterOf(wrapper)).toBe("/bin/sh");
  // No PATH dirs, which would cover /bin/sh's own rule.
  const paths = (await toolchainRules(wrapper, { PATH: "" }, sharedTempDir("other-tmp-"))).map((rule) => rule.path);
  expect(paths).toContain(realpathSync("/bin/sh"));
  const cc1 = realpathSync(Bun.spawnSync([gcc, "-print-prog-name=cc1"]).stdout.toString().trim());
  expect(paths.some((dir) => cc1.startsWith(`${dir}/`))).toBe(true);
});

test("the ELF interpreter of a program is read from PT_INTERP", () => {
  expect(interpreterOf(realpathSync(gcc))).toBe("/lib64/ld-linux-x86-64.so.2");
  expect(interpreterOf("/etc/hostname")).toBeUndefined();
});

test("rules beneath a dir granted as much are dropped", () => {
  expect(
    withoutCovered([
      { path: "/usr/lib", access: 13 },
      { path: "/usr/lib/x/libc.so", access: 5 },
      { path: "/usr/libexec", access: 13 },
      { path: "/usr/lib/y", access: 13 | 2 },
    ]),
  ).toEqual([
    { path: "/usr/lib", access: 13 },
    { path: "/usr/libexec", access: 13 },
    { path: "/usr/lib/y", access: 15 },
  ]);
});
