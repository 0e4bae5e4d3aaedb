/**
 * @module The machine-wide figures of the C server's stats text, read from /proc
 * (distcc-protocol.md §7): processes in D state, the largest RSS, disk I/O rate, free memory.
 */
import { existsSync, readdirSync, readFileSync, statfsSync } from "node:fs";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Processes in uninterruptible sleep, and the one with the largest resident set (KiB, `(comm)`). */
export function processSummary(): { stateD: number; maxRss: number; maxRssName: string } {
  let stateD = 0;
  let maxRss = 0;
  let maxRssName = "";
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const close = stat.lastIndexOf(")");
    if (close < 0) continue;
    const fields = stat.slice(close + 2).split(" ");
    if (fields[0] === "D") stateD++;
    // Field 24 of stat is the RSS in pages; the C server reports KiB.
    const rss = (Number(fields[21]) * 4096) / 1024;
    if (rss > maxRss) {
      maxRss = rss;
      maxRssName = stat.slice(stat.indexOf("("), close + 1);
    }
  }
  return { stateD, maxRss, maxRssName };
}

/** Free space for unprivileged users in `dir`'s filesystem, in MiB, or -1. */
export function freeMegabytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return Math.floor((fs.bavail * fs.bsize) / (1024 * 1024));
  } catch {
    return -1;
  }
}

/** MemAvailable in MiB (HEAD's dcc_free_mem), or -1. */
export function freeMemoryMegabytes(): number {
  const match = read("/proc/meminfo").match(/^MemAvailable:\s+(\d+) kB/m);
  return match ? Math.floor(Number(match[1]) / 1024) : -1;
}

/** Sectors read and written so far by whole disks (not partitions). */
export function diskSectors(): number {
  let total = 0;
  for (const line of read("/proc/diskstats").split("\n")) {
    const fields = line.trim().split(/\s+/);
    const name = fields[2] ?? "";
    // Partitions are counted in their disk already; /sys/block lists only whole devices.
    if (fields.length < 10 || !existsSync(`/sys/block/${name}`) || name.startsWith("loop") || name.startsWith("ram")) continue;
    total += Number(fields[5]) + Number(fields[9]);
  }
  return total;
}
