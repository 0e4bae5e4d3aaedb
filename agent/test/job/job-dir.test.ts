import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobDir, removeStaleJobDirs } from "../../src/job/job-dir.ts";

const dir = mkdtempSync(join(tmpdir(), "job-dir-test-"));
const staleDir = mkdtempSync(join(tmpdir(), "job-dir-stale-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(staleDir, { recursive: true, force: true });
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
  const removed = removeStaleJobDirs(staleDir);
  expect(removed.sort()).toEqual([mine.slice(staleDir.length + 1), "distccd-agent.4194305.bbbbbb"].sort());
  expect(readdirSync(staleDir).sort()).toEqual(["distccd-agent.1.aaaaaa", "distccd_cccccc", "unrelated"]);
});
