/**
 * @module Free space in the agent's TMPDIR, where every job's files go: measured for `/readyz`
 * (`--min-free-space`) and to explain a compile that failed without a word on a full disk.
 */
import { statfsSync } from "node:fs";

/** Bytes an unprivileged writer may still use in `dir`'s file system; -1 when it cannot be measured. */
export function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return -1;
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Why `dir` is too full to take jobs, or undefined while it has at least `minFree` bytes free (or cannot be measured). */
export function tempSpaceShortage(dir: string, minFree: number): string | undefined {
  const free = freeBytes(dir);
  if (free < 0 || free >= minFree) return undefined;
  return `low on temp space: ${mebibytes(free)} free in ${dir}, --min-free-space is ${mebibytes(minFree)}`;
}
