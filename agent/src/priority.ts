/**
 * @module `--nice` for the whole agent. On Linux setpriority() changes one thread, and Bun starts
 * some threads (the allocator's scavenger among them) before the options are read: each thread
 * is lowered, so that none of them competes with the compilers at the old priority.
 */
import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** Adds `by` to the niceness of every thread, within -20..19 (raising it needs privileges). */
export function lowerPriority(by: number): void {
  const target = Math.max(-20, Math.min(19, getPriority() + by));
  setPriority(target);
  let threads: string[] = [];
  try {
    threads = readdirSync("/proc/self/task");
  } catch {
    // No /proc: the main thread, and the threads it starts from now on, are lowered.
  }
  for (const tid of threads) {
    try {
      setPriority(Number(tid), target);
    } catch {
      // The thread ended since the listing.
    }
  }
}
