/**
 * A real third-party C project for builds under test: zlib, from Debian's source package
 * (nothing vendored), fetched once into .tools/zlib-source, as ci/upstream-testsuite.sh fetches
 * distcc's. Each call returns a fresh copy configured for the PowerPC compiler, so a test
 * builds it with `make CC="distcc GCC" libz.a`.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sharedTempDir } from "../../agent/test/helpers/agent.ts";
import { GCC, toolchain } from "../../agent/test/helpers/toolchain.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CACHE = join(ROOT, ".tools/zlib-source");

function run(cmd: string[], cwd: string, env: Record<string, string | undefined> = process.env): void {
  const result = spawnSync(cmd[0] as string, cmd.slice(1), { cwd, env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${cmd.join(" ")} failed:\n${result.stdout}${result.stderr}`);
}

function fetchSource(): void {
  if (existsSync(join(CACHE, "zlib.h"))) return;
  run([join(ROOT, "ci/enable-deb-src.sh")], ROOT);
  const work = mkdtempSync(join(tmpdir(), "zlib-src-"));
  run(["apt-get", "source", "-qq", "--tar-only", "zlib"], work);
  const tarball = readdirSync(work).find((name) => /^zlib_.*\.orig\.tar\.(gz|bz2|xz)$/.test(name));
  if (!tarball) throw new Error(`apt-get source zlib left no tarball in ${work}`);
  mkdirSync(CACHE, { recursive: true });
  run(["tar", "xf", join(work, tarball), "-C", CACHE, "--strip-components=1"], work);
  rmSync(work, { recursive: true, force: true });
}

/** A configured copy of zlib's source; `make libz.a` builds its 15 objects. */
export function zlibProject(): string {
  fetchSource();
  const dir = sharedTempDir("zlib-");
  cpSync(CACHE, dir, { recursive: true });
  run(["./configure", "--static"], dir, { ...process.env, CC: GCC, CFLAGS: "-O2", PATH: `${toolchain().bin}:${process.env.PATH}` });
  return dir;
}
