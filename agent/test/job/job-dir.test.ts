import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobDir, JobDirs, removeStaleJobDirs } from "../../src/job/job-dir.ts";

const dir = mkdtempSync(join(tmpdir(), "job-dir-test-"));
const staleDir = mkdtempSync(join(tmpdir(), "job-dir-stale-"));
const poolDir = mkdtempSync(join(tmpdir(), "job-dir-pool-"));
const outside = mkdtempSync(join(tmpdir(), "job-dir-outside-"));
afterAll(() => {
  for (const d of [dir, staleDir, poolDir, outside]) rmSync(d, { recursive: true, force: true });
});

test("job dirs carry the agent's pid", () => {
  expect(createJobDir(dir)).toStartWith(join(dir, `distccd-agent.${process.pid}.`));
});

test("start-up removes the dirs of agents that are gone and its own, and nothing else", () => {
  const mine = createJobDir(staleDir);
  // pid 1 is alive (init); a pid above pid_max cannot be.
  mkdirSync(join(staleDir, "distccd-agent.1.aaaaaa"));
  mkdirSync(join(staleDir, "distccd-agent.4194305.bbbbbb"));
  mkdirSync(join(staleDir, "distccd_cccccc"));
  mkdirSync(join(staleDir, "unrelated"));
  const { dirs: removed } = removeStaleJobDirs(staleDir);
  expect(removed.sort()).toEqual([mine.slice(staleDir.length + 1), "distccd-agent.4194305.bbbbbb"].sort());
  expect(readdirSync(staleDir).sort()).toEqual(["distccd-agent.1.aaaaaa", "distccd_cccccc", "unrelated"]);
});

test("a finished job's dir comes back empty for the next job, up to the number kept", () => {
  const dirs = new JobDirs(poolDir, 1);
  const first = dirs.take();
  const second = dirs.take();
  expect(first).not.toBe(second);
  expect(statSync(first).mode & 0o777).toBe(0o700);
  // What a pump job leaves: a tree, and a link that points out of the dir.
  mkdirSync(join(first, "root/usr/include"), { recursive: true });
  writeFileSync(join(first, "root/usr/include/a.h"), "int a;\n");
  writeFileSync(join(first, "output.o"), "ELF");
  writeFileSync(join(outside, "kept.txt"), "not the job's");
  symlinkSync(outside, join(first, "link"));
  dirs.give(first);
  dirs.give(second);
  // One is kept, emptied; the other is gone. Nothing outside was touched through the link.
  expect(readdirSync(poolDir)).toEqual([first.slice(poolDir.length + 1)]);
  expect(readdirSync(first)).toEqual([]);
  expect(readdirSync(outside)).toEqual(["kept.txt"]);
  expect(dirs.take()).toBe(first);
  dirs.give(first);
  dirs.clear();
  expect(readdirSync(poolDir)).toEqual([]);
  expect(dirs.take()).not.toBe(first);
});
