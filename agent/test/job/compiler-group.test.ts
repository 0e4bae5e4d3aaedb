import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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
  expect(readFileSync(join(jobDir, "compiler-group"), "utf8")).toMatch(new RegExp(`^${sleep.pid}:\\d+ *$`));
  expect(killRecordedGroup(jobDir)).toBe(sleep.pid);
  expect(await sleep.exited).toBe(137);
});

test("a group number now led by another process is left alone", async () => {
  const jobDir = mkdtempSync(join(dir, "job-"));
  const sleep = groupLeader();
  // The same number, but a leader that started at another time: not the group recorded.
  writeFileSync(join(jobDir, "compiler-group"), `${sleep.pid}:1`);
  expect(killRecordedGroup(jobDir)).toBeUndefined();
  await Bun.sleep(50);
  expect(sleep.exitCode).toBeNull();
});

test("no record, or a record naming init, kills nothing", () => {
  expect(killRecordedGroup(mkdtempSync(join(dir, "job-")))).toBeUndefined();
  const jobDir = mkdtempSync(join(dir, "job-"));
  writeFileSync(join(jobDir, "compiler-group"), "1:1");
  expect(killRecordedGroup(jobDir)).toBeUndefined();
});

test("the next job's record is written over the last one's, in the same file", async () => {
  const jobDir = mkdtempSync(join(dir, "job-"));
  const first = groupLeader();
  recordCompilerGroup(jobDir, first.pid);
  const inode = statSync(join(jobDir, "compiler-group")).ino;
  first.kill("SIGKILL");
  await first.exited;
  const second = groupLeader();
  recordCompilerGroup(jobDir, second.pid);
  expect(statSync(join(jobDir, "compiler-group")).ino).toBe(inode);
  expect(readFileSync(join(jobDir, "compiler-group"), "utf8").trim()).toMatch(new RegExp(`^${second.pid}:\\d+$`));
  expect(killRecordedGroup(jobDir)).toBe(second.pid);
  expect(await second.exited).toBe(137);
});
