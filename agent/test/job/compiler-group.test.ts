import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killRecordedGroup, recordCompilerGroup } from "../../src/job/compiler-group.ts";

const dir = mkdtempSync(join(tmpdir(), "compiler-group-"));
const sleeps: ReturnType<typeof Bun.spawn>[] = [];
afterAll(() => {
  for (const sleep of sleeps) sleep.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A `sleep` leading a process group of its own, as the agent starts compilers. */
function groupLeader(): ReturnType<typeof Bun.spawn> {
  const sleep = Bun.spawn(["sleep", "60"], { detached: true, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  sleeps.push(sleep);
  return sleep;
}

test("the recorded group is killed", async () => {
  const jobDir = mkdtempSync(join(dir, "job-"));
  const sleep = groupLeader();
  recordCompilerGroup(jobDir, sleep.pid);
  expect(readlinkSync(join(jobDir, "compiler-group"))).toMatch(new RegExp(`^${sleep.pid}:\\d+$`));
  expect(killRecordedGroup(jobDir)).toBe(sleep.pid);
  expect(await sleep.exited).toBe(137);
});

test("a group number now led by another process is left alone", async () => {
  const jobDir = mkdtempSync(join(dir, "job-"));
  const sleep = groupLeader();
  // The same number, but a leader that started at another time: not the group recorded.
  symlinkSync(`${sleep.pid}:1`, join(jobDir, "compiler-group"));
  expect(killRecordedGroup(jobDir)).toBeUndefined();
  await Bun.sleep(50);
  expect(sleep.exitCode).toBeNull();
});

test("no record, or a record naming init, kills nothing", () => {
  expect(killRecordedGroup(mkdtempSync(join(dir, "job-")))).toBeUndefined();
  const jobDir = mkdtempSync(join(dir, "job-"));
  symlinkSync("1:1", join(jobDir, "compiler-group"));
  expect(killRecordedGroup(jobDir)).toBeUndefined();
});
