import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompilerIdentities } from "../../src/cache/compiler-identity.ts";

/** A driver that answers gcc's probes and notes each one, so a test sees which processes probed it. */
function fakeDriver(dir: string): { path: string; probes: () => number } {
  const path = join(dir, "cc");
  const log = join(dir, "probes");
  writeFileSync(log, "");
  writeFileSync(path, `#!/bin/sh\necho "$1" >> ${log}\ncase "$1" in -dumpmachine) echo ppc;; -dumpversion) echo 12;; *) echo "";; esac\n`);
  chmodSync(path, 0o755);
  return { path, probes: () => readFileSync(log, "utf8").split("\n").filter(Boolean).length };
}

test("a compiler's identity is remembered in the file for the next process, until the driver changes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "identity-"));
  mkdirSync(join(dir, "tmp"));
  const file = { path: join(dir, "compilers.json"), tempDir: join(dir, "tmp") };
  const driver = fakeDriver(dir);
  const first = await new CompilerIdentities({ PATH: "/usr/bin" }, file).identify(driver.path);
  const probed = driver.probes();
  expect(probed).toBe(6);
  // A new process (inetd mode) with the same file: no probe, the same identity.
  expect(await new CompilerIdentities({ PATH: "/usr/bin" }, file).identify(driver.path)).toBe(first);
  expect(driver.probes()).toBe(probed);
  // Without the file, the same identity is worked out again.
  expect(await new CompilerIdentities({ PATH: "/usr/bin" }).identify(driver.path)).toBe(first);
  expect(driver.probes()).toBe(2 * probed);
  // A driver rewritten under the same name is probed and hashed again.
  writeFileSync(driver.path, `${readFileSync(driver.path, "utf8")}# rebuilt\n`);
  const later = new Date(Date.now() + 5000);
  utimesSync(driver.path, later, later);
  const changed = await new CompilerIdentities({ PATH: "/usr/bin" }, file).identify(driver.path);
  expect(changed).not.toBe(first);
  expect(driver.probes()).toBe(3 * probed);
});

test("a file that is not an identity record is ignored", async () => {
  const dir = mkdtempSync(join(tmpdir(), "identity-"));
  mkdirSync(join(dir, "tmp"));
  const file = { path: join(dir, "compilers.json"), tempDir: join(dir, "tmp") };
  const driver = fakeDriver(dir);
  const expected = await new CompilerIdentities({ PATH: "/usr/bin" }).identify(driver.path);
  writeFileSync(file.path, JSON.stringify({ [driver.path]: { driver: "x", identity: 1 } }));
  expect(await new CompilerIdentities({ PATH: "/usr/bin" }, file).identify(driver.path)).toBe(expected);
  writeFileSync(file.path, "not json");
  expect(await new CompilerIdentities({ PATH: "/usr/bin" }, file).identify(driver.path)).toBe(expected);
});
