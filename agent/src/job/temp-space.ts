/**
 * @module Free space in the agent's TMPDIR, where every job's files go: watched for `/readyz`
 * (`--min-free-space`), and asked to explain a compile that failed without a word.
 */
import { statfsSync } from "node:fs";
import type { Logger } from "../log.ts";

/** Bytes an unprivileged writer may still use in `dir`'s file system; -1 when it cannot be measured. */
export function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return -1;
  }
}

/** True while `dir` has less than `minFree` bytes free (never when it cannot be measured). */
export function shortOfSpace(dir: string, minFree: number): boolean {
  const free = freeBytes(dir);
  return free >= 0 && free < minFree;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * TMPDIR as `/readyz` sees it. The probe answers anyone, so it says only "low on temp space";
 * the figures go to the log, once when space runs short and once when it returns.
 */
export class TempSpaceWatch {
  private short = false;

  constructor(
    private readonly dir: string,
    private readonly minFree: number,
    private readonly log: Logger,
  ) {}

  /** Why the agent should take no jobs now, or undefined. */
  unready(): string | undefined {
    const free = freeBytes(this.dir);
    const short = free >= 0 && free < this.minFree;
    if (short !== this.short) {
      this.short = short;
      const figures = `${mebibytes(free)} free in ${this.dir}, --min-free-space is ${mebibytes(this.minFree)}`;
      if (short) this.log.warning("dcc_free_space", `low on temp space: ${figures}; /readyz fails until space returns`);
      else this.log.notice("dcc_free_space", `temp space is back: ${figures}; /readyz passes again`);
    }
    return short ? "low on temp space" : undefined;
  }
}
