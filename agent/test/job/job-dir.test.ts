import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobDir, removeStaleJobDirs } from "../../src/job/job-dir.ts";

const dir = mkdtempSync(join(tmpdir(), "job-dir-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("job dirs carry the agent's pid", () => {
  expect(createJobDir(dir)).toStartWith(join(dir, `distccd-agent.${process.pid}.`));
});

test("start-up removes the dirs of agents that are gone and its own, and nothing else", () => {
  const dir = mkdtempSync(join(tmpdir(), "job-dir-stale-"));
  const mine = createJobDir(dir);
  // pid 1 is alive (init); a pid above pid_max cannot be.
  mkdirSync(join(dir, "distccd-agent.1.aaaaaa"));
  mkdirSync(join(dir, "distccd-agent.4194305.bbbbbb"));
  mkdirSync(join(dir, "distccd_cccccc"));
  mkdirSync(join(dir, "unrelated"));
  const removed = removeStaleJobDirs(dir);
  expect(removed.sort()).toEqual([mine.slice(dir.length + 1), "distccd-agent.4194305.bbbbbb"].sort());
  expect(readdirSync(dir).sort()).toEqual(["distccd-agent.1.aaaaaa", "distccd_cccccc", "unrelated"]);
});
