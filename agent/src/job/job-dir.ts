/**
 * @module Each job's private temp dir, named for the agent that owns it
 * (`distccd-agent.<pid>.XXXXXX`), so that an agent starting after one that died by SIGKILL can
 * tell its predecessor's leftovers from another live agent's jobs, and remove them.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";

const PREFIX = "distccd-agent.";

export function createJobDir(tmpDir: string): string {
  return mkdtempSync(`${tmpDir}/${PREFIX}${process.pid}.`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes job dirs whose agent is gone. At start-up the agent has no jobs yet, so dirs named
 * with its own pid are stale too (a restarted container's PID 1 gets the same pid again).
 * Returns the names removed.
 */
export function removeStaleJobDirs(tmpDir: string): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(tmpDir);
  } catch {
    return removed;
  }
  for (const name of entries) {
    const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length).split(".")[0] : Number.NaN);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid !== process.pid && alive(pid)) continue;
    rmSync(`${tmpDir}/${name}`, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
