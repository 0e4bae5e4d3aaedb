/**
 * @module The compiler's process group, recorded in its job dir, so that an agent starting after
 * one killed mid-job finds the compilers still running and kills them. The record
 * (`compiler-group`: `PGID:STARTTIME`, padded to a fixed width) is one small file that stays
 * when the dir is emptied for its next job (job-dir.ts), which overwrites it in place: no inode
 * per job (a new one is the dearest file operation on a busy ext4), and no block to allocate, so
 * it is written even when the disk is full. The leader's start time tells the group from a later
 * one that got the same number; a finished job's record names a group that is gone.
 */
import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";

export const COMPILER_GROUP_RECORD = "compiler-group";
const RECORD_WIDTH = 32;

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Notes the group led by `pid` (a compiler started in a group of its own) in `jobDir`. */
export function recordCompilerGroup(jobDir: string, pid: number): void {
  const started = startTime(pid);
  if (started === undefined) return;
  try {
    // Not truncated: the same width is written over the last job's record.
    const fd = openSync(`${jobDir}/${COMPILER_GROUP_RECORD}`, constants.O_WRONLY | constants.O_CREAT, 0o600);
    try {
      writeSync(fd, `${pid}:${started}`.padEnd(RECORD_WIDTH), 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    // No record (no inode or block left): the watchdog still kills the group if this agent dies.
  }
}

/**
 * Kills the group recorded in a dead agent's job dir, unless its number now leads another
 * process. A group whose leader is gone but whose members remain is still the recorded one: its
 * number cannot be given to a new process while it is in use. Returns the group killed.
 */
export function killRecordedGroup(jobDir: string): number | undefined {
  let record: string;
  try {
    record = readFileSync(`${jobDir}/${COMPILER_GROUP_RECORD}`, "utf8").trim();
  } catch {
    return undefined;
  }
  const [pgid, started] = record.split(":").map(Number);
  if (pgid === undefined || !Number.isInteger(pgid) || pgid <= 1) return undefined;
  const leader = startTime(pgid);
  if (leader !== undefined && Number(leader) !== started) return undefined;
  try {
    process.kill(-pgid, "SIGKILL");
    return pgid;
  } catch {
    return undefined;
  }
}
