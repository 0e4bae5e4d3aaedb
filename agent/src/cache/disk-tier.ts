/**
 * @module The local tier (`--cache-dir`, `--cache-size`): one file per entry under a directory
 * only the agent's user can enter. Entries are written to `tmp/` and renamed into place, so a
 * reader (this agent, another agent on the same directory, or one after a restart) sees a whole
 * entry or none. A hit sets the file's mtime, and eviction removes the oldest mtimes first:
 * least recently used across every agent that shares the directory.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { ConfigError } from "../errors.ts";

/** Eviction stops once the entries take this share of --cache-size. */
const LOW_WATER = 0.9;
/**
 * Other agents may write to the same directory: after this share of --cache-size written here,
 * what is on disk is counted again (so the bound holds within about this share per agent).
 */
const RECOUNT_SHARE = 0.05;
/** A temp file this old was left by an agent killed mid-write. */
const STALE_TEMP_MS = 60 * 60 * 1000;

interface EntryFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export class DiskTier {
  /** Entries and bytes as last counted, plus this agent's writes since. */
  entries = 0;
  bytes = 0;
  private readonly tmp: string;
  private written = 0;
  private writtenSinceCount = 0;
  /** The eviction under way: one at a time, whatever the number of writes that asked for it. */
  private evicting: Promise<void> | undefined;

  /** False until the entries on disk have been counted. */
  private counted = false;

  /**
   * `oneJob` (inetd mode, a process per job): the entries are not counted at start, which read
   * every entry's size (0.5 s for 100 000, measured) for each job; a write then recounts by chance,
   * as often as every agent together writes the recount share.
   */
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly onEvict: (count: number) => void,
    oneJob = false,
  ) {
    this.tmp = `${dir}/tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
      if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    } catch (cause) {
      throw new ConfigError("E_CONFIG_CACHE_DIR", `--cache-dir ${dir}: cannot be used: ${(cause as Error).message}`, { cause });
    }
    if (!oneJob) this.count(this.scan());
    this.removeStaleTemps();
  }

  private path(key: string): string {
    return `${this.dir}/${key.slice(0, 2)}/${key.slice(2)}`;
  }

  /** The entry's bytes, or undefined when there is none; a read marks it recently used. */
  read(key: string): Uint8Array | undefined {
    const path = this.path(key);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Evicted by another agent since the read: the bytes are still whole.
    }
    return bytes;
  }

  remove(key: string): void {
    try {
      const path = this.path(key);
      const size = statSync(path).size;
      unlinkSync(path);
      this.entries = Math.max(0, this.entries - 1);
      this.bytes = Math.max(0, this.bytes - size);
    } catch {
      // Already gone.
    }
  }

  /**
   * Writes the entry atomically, off the event loop (creating a file costs the kernel a few
   * hundred microseconds); rejects when the file system refuses (the caller logs it).
   */
  async write(key: string, entry: Uint8Array): Promise<void> {
    const temp = `${this.tmp}/${process.pid}.${this.written++}.${key.slice(0, 16)}`;
    const path = this.path(key);
    try {
      await writeFile(temp, entry, { mode: 0o600 });
      try {
        await rename(temp, path);
      } catch {
        await mkdir(`${this.dir}/${key.slice(0, 2)}`, { recursive: true, mode: 0o700 });
        await rename(temp, path);
      }
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.entries++;
    this.bytes += entry.length;
    this.writtenSinceCount += entry.length;
    const share = this.maxBytes * RECOUNT_SHARE;
    const recount = this.counted ? this.writtenSinceCount > share : Math.random() < entry.length / share;
    if (this.bytes > this.maxBytes || recount) {
      this.evicting ??= this.evict().finally(() => {
        this.evicting = undefined;
      });
      await this.evicting;
    }
  }

  /** Every entry file now on disk, written by any agent: at start-up, before the agent serves. */
  private scan(): EntryFile[] {
    const files: EntryFile[] = [];
    for (const shard of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const shardDir = `${this.dir}/${shard}`;
      let names: string[];
      try {
        names = readdirSync(shardDir);
      } catch {
        continue;
      }
      for (const name of names) {
        const path = `${shardDir}/${name}`;
        try {
          const stat = statSync(path);
          files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
        } catch {
          // Evicted by another agent during the scan.
        }
      }
    }
    return files;
  }

  private count(files: readonly EntryFile[]): void {
    this.counted = true;
    this.writtenSinceCount = 0;
    this.entries = files.length;
    this.bytes = files.reduce((sum, file) => sum + file.size, 0);
  }

  /**
   * {@link scan} off the event loop, one shard at a time: a full tier holds some 100 000 entries,
   * and a synchronous pass over them stalled every connection of the agent that long.
   */
  private async scanInBackground(): Promise<EntryFile[]> {
    const files: EntryFile[] = [];
    for (const shard of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const shardDir = `${this.dir}/${shard}`;
      const names = await readdir(shardDir).catch(() => [] as string[]);
      const found = await Promise.all(
        names.map((name) =>
          stat(`${shardDir}/${name}`).then(
            (entry) => ({ path: `${shardDir}/${name}`, size: entry.size, mtimeMs: entry.mtimeMs }),
            // Evicted by another agent during the scan.
            () => undefined,
          ),
        ),
      );
      for (const file of found) if (file !== undefined) files.push(file);
    }
    return files;
  }

  /** Counts again what is on disk (other agents write too), then removes the least recently used if over the bound. */
  private async evict(): Promise<void> {
    const files = (await this.scanInBackground()).sort((a, b) => a.mtimeMs - b.mtimeMs);
    this.count(files);
    const target = this.maxBytes * LOW_WATER;
    let evicted = 0;
    for (const file of files) {
      if (this.bytes <= target) break;
      // Another agent may have evicted it first.
      if (
        await unlink(file.path).then(
          () => true,
          () => false,
        )
      )
        evicted++;
      this.entries--;
      this.bytes -= file.size;
    }
    if (evicted > 0) this.onEvict(evicted);
  }

  private removeStaleTemps(): void {
    const now = Date.now();
    for (const name of readdirSync(this.tmp)) {
      const path = `${this.tmp}/${name}`;
      try {
        if (now - statSync(path).mtimeMs > STALE_TEMP_MS) unlinkSync(path);
      } catch {
        // Renamed or removed by its writer meanwhile.
      }
    }
  }
}
