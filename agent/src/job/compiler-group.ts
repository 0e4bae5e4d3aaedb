/**
 * @module The compiler's process group, recorded in its job dir, so that an agent starting after
 * one killed mid-job finds the compilers still running and kills them. The record is a symlink
 * (`compiler-group -> PGID:STARTTIME`): its target lives in the inode, so it is written even
 * when the disk is full. The leader's start time tells the group from a later one that got the
 * same number.
 */
import { readFileSync, readlinkSync, symlinkSync } from "node:fs";

const RECORD = "compiler-group";

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
    symlinkSync(`${pid}:${started}`, `${jobDir}/${RECORD}`);
  } catch {
    // No record (no inode left): the watchdog still kills the group if this agent dies.
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
    record = readlinkSync(`${jobDir}/${RECORD}`);
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
