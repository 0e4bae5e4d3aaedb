/**
 * @module The compile cache's one entry point for the server: `serve(request, compile)` answers
 * a job from the local tier, then Redis, else runs `compile` once for all identical jobs that
 * arrive meanwhile and stores what succeeded. It sees a job as a command, a compiler and an
 * input; it knows nothing of the protocol that brought them.
 */

import type { CompilePlan, JobResult } from "../job/compile-job.ts";
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics/prometheus.ts";
import type { CachedOutput } from "./cache-entry.ts";
import { decodeEntry, encodeEntry, entryOutput } from "./cache-entry.ts";
import { cacheKey, compilerEnvironment, type KeyInput, normalizeCommand } from "./cache-key.ts";
import { CacheMetrics, type CacheOutcome } from "./cache-metrics.ts";
import { CompilerIdentities } from "./compiler-identity.ts";
import { DiskTier } from "./disk-tier.ts";
import { type RedisMode, RedisTier, redactedUrl } from "./redis-tier.ts";
import { TreeManifest } from "./tree-manifest.ts";

export type { CacheOutcome } from "./cache-metrics.ts";

export interface CacheSettings {
  /** --cache-dir; undefined: no local tier. */
  readonly dir: string | undefined;
  /** --cache-size, in bytes. */
  readonly maxBytes: number;
  /** --cache-redis or DISTCCD_CACHE_REDIS; undefined: no shared tier. */
  readonly redisUrl: string | undefined;
  readonly redisMode: RedisMode;
  readonly ttlSeconds: number;
}

export interface CacheRequest {
  readonly plan: CompilePlan;
  readonly jobDir: string;
  /** Where the compiler runs. */
  readonly cwd: string;
  /** Protocols 1 and 2: the source as the compiler reads it; called only when the cache is on, and only at once. */
  readonly source: () => Uint8Array;
  /** Pump mode: the tree's manifest. */
  readonly tree?: TreeManifest;
}

/** What the server replies for a finished compile. */
export interface CompileOutput {
  readonly result: JobResult;
  /** Pump mode's dependency file, as sent to the client. */
  readonly dependencies: Uint8Array | undefined;
}

export interface ServedOutput extends CompileOutput {
  readonly cache: CacheOutcome;
  /** Answered by an identical job's lookup or compile that was already under way. */
  readonly shared: boolean;
}

/** What /status and --version say about the cache. */
export interface CacheState {
  readonly enabled: boolean;
  readonly disk?: { readonly dir: string; readonly maxBytes: number; readonly entries: number; readonly bytes: number };
  readonly redis?: { readonly url: string; readonly mode: RedisMode; readonly ttlSeconds: number; readonly up: boolean };
}

/** Options whose output depends on more than the key sees, or that print what differs per run. */
const BYPASS_PREFIXES = ["-B", "@", "-save-temps", "-ftime-report", "-fmem-report", "-fdump-", "-wrapper", "-fplugin", "-specs", "--specs"];
const BYPASS_OPTIONS = new Set(["-v", "-###", "-Q"]);
/** On protocols 1 and 2 these make the server read its own files, which the key cannot see. */
const SERVER_INPUT_OPTIONS = new Set(["-include", "-imacros"]);
const UNPREPROCESSED = new Set(["c", "c++", "objective-c", "objective-c++", "assembler-with-cpp", "go"]);
/** Store failures are logged at most this often. */
const STORE_WARNING_MS = 60_000;

interface Shared {
  readonly outcome: CacheOutcome;
  readonly output: CachedOutput;
}

function uncacheable(command: readonly string[], pump: boolean): boolean {
  for (let i = 1; i < command.length; i++) {
    const arg = command[i] as string;
    if (BYPASS_OPTIONS.has(arg) || BYPASS_PREFIXES.some((prefix) => arg.startsWith(prefix))) return true;
    if (pump) continue;
    if (SERVER_INPUT_OPTIONS.has(arg)) return true;
    if (arg.startsWith("-x") && UNPREPROCESSED.has(arg === "-x" ? (command[i + 1] ?? "") : arg.slice(2))) return true;
  }
  return false;
}

function okResult(output: CachedOutput): JobResult {
  return { status: 0, stdout: output.stdout, stderr: output.stderr, object: output.object, outcome: "ok" };
}

/** One line for --version. */
export function describeCacheSettings(settings: CacheSettings): string {
  const tiers: string[] = [];
  if (settings.dir !== undefined) tiers.push(`disk ${settings.dir} (${Math.round(settings.maxBytes / 2 ** 20)} MiB)`);
  if (settings.redisUrl !== undefined)
    tiers.push(`redis ${redactedUrl(settings.redisUrl)} (${settings.redisMode}, ttl ${settings.ttlSeconds}s)`);
  return tiers.length === 0 ? "cache: off" : `cache: ${tiers.join(", ")}`;
}

export class CompileCache {
  readonly enabled: boolean;
  private readonly disk: DiskTier | undefined;
  private readonly redis: RedisTier | undefined;
  private readonly metrics: CacheMetrics | undefined;
  private readonly identities: CompilerIdentities;
  private readonly environment: string;
  private readonly flights = new Map<string, Promise<Shared | undefined>>();
  private lastStoreWarning = 0;
  /** Entries being written: a stopping agent finishes them, so what it compiled survives the restart. */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    settings: CacheSettings,
    private readonly deps: {
      /** The compilers' environment. */
      readonly env: Readonly<Record<string, string | undefined>>;
      readonly log: Logger;
      readonly registry: Registry;
      /** inetd mode: this process serves one job and exits. */
      readonly oneJob?: boolean;
    },
  ) {
    this.enabled = settings.dir !== undefined || settings.redisUrl !== undefined;
    this.identities = new CompilerIdentities(
      deps.env,
      settings.dir === undefined ? undefined : { path: `${settings.dir}/compilers.json`, tempDir: `${settings.dir}/tmp` },
    );
    this.environment = compilerEnvironment(deps.env);
    if (!this.enabled) return;
    let metrics: CacheMetrics | undefined;
    if (settings.dir !== undefined)
      this.disk = new DiskTier(settings.dir, settings.maxBytes, (count) => metrics?.evicted(count), deps.oneJob);
    if (settings.redisUrl !== undefined)
      this.redis = new RedisTier(settings.redisUrl, settings.redisMode, settings.ttlSeconds, deps.log, {
        error: (operation) => metrics?.redisError(operation),
        stored: () => metrics?.stored("redis"),
      });
    const redis = this.redis;
    metrics = new CacheMetrics(deps.registry, this.disk, redis ? () => redis.up : undefined);
    this.metrics = metrics;
  }

  /** A manifest for a pump job's file tree to fill; undefined when the cache is off. */
  treeManifest(): TreeManifest | undefined {
    return this.enabled ? new TreeManifest() : undefined;
  }

  state(): CacheState {
    const { disk, redis } = this;
    return {
      enabled: this.enabled,
      ...(disk && { disk: { dir: disk.dir, maxBytes: disk.maxBytes, entries: disk.entries, bytes: disk.bytes } }),
      ...(redis && { redis: { url: redis.where, mode: redis.mode, ttlSeconds: redis.ttlSeconds, up: redis.up } }),
    };
  }

  /** The `--stats` text's cache lines. */
  statsLines(): string[] {
    const totals = this.metrics?.totals;
    if (totals === undefined) return [];
    return [
      `dcc_cache_hit_disk ${totals.hitDisk}`,
      `dcc_cache_hit_redis ${totals.hitRedis}`,
      `dcc_cache_miss ${totals.miss}`,
      `dcc_cache_bypass ${totals.bypass}`,
      `dcc_cache_shared ${totals.shared}`,
      `dcc_cache_stores ${totals.stores}`,
      `dcc_cache_entries ${this.disk?.entries ?? 0}`,
      `dcc_cache_bytes ${this.disk?.bytes ?? 0}`,
      `dcc_cache_evictions ${totals.evictions}`,
      `dcc_cache_corrupt ${totals.corrupt}`,
      `dcc_cache_redis_errors ${totals.redisErrors}`,
    ];
  }

  /** Waits for the entries still being written (bounded by the tiers' own deadlines), then disconnects. */
  async close(): Promise<void> {
    await Promise.allSettled(this.writes);
    this.redis?.close();
  }

  /** Keeps a write in {@link writes} until it settles. */
  private track(write: Promise<void>): void {
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  async serve(request: CacheRequest, compile: () => Promise<CompileOutput>): Promise<ServedOutput> {
    const metrics = this.metrics;
    if (metrics === undefined) return { ...(await compile()), cache: "off", shared: false };
    const key = await this.keyOf(request);
    if (key === undefined) {
      metrics.job("bypass", false);
      return { ...(await compile()), cache: "bypass", shared: false };
    }
    const hex = Buffer.from(key).toString("hex");
    const flight = this.flights.get(hex);
    if (flight !== undefined) {
      const shared = await flight;
      if (shared !== undefined) {
        metrics.job(shared.outcome, true);
        return { result: okResult(shared.output), dependencies: shared.output.dependencies, cache: shared.outcome, shared: true };
      }
      // The other job failed or its client left: this one compiles for itself.
      const output = await compile();
      this.keep(key, hex, output);
      metrics.job("miss", false);
      return { ...output, cache: "miss", shared: false };
    }
    const { promise, resolve } = Promise.withResolvers<Shared | undefined>();
    this.flights.set(hex, promise);
    let shared: Shared | undefined;
    try {
      const found = await this.lookup(key, hex);
      if (found !== undefined) {
        shared = found;
        metrics.job(found.outcome, false);
        return { result: okResult(found.output), dependencies: found.output.dependencies, cache: found.outcome, shared: false };
      }
      const output = await compile();
      const entry = this.keep(key, hex, output);
      if (entry !== undefined) shared = { outcome: "miss", output: entry };
      metrics.job("miss", false);
      return { ...output, cache: "miss", shared: false };
    } finally {
      this.flights.delete(hex);
      resolve(shared);
    }
  }

  /** The key, or undefined when this job must not be cached. */
  private async keyOf(request: CacheRequest): Promise<Uint8Array | undefined> {
    const { plan, jobDir, tree } = request;
    if (plan.executable === undefined || uncacheable(plan.command, tree !== undefined) || tree?.usesClock) return undefined;
    try {
      // The source is hashed before anything is awaited: it may be a view the next job reuses.
      const input: KeyInput =
        tree !== undefined
          ? { cdir: request.cwd.replaceAll(jobDir, "/distccd-job"), tree }
          : {
              source: new Bun.CryptoHasher("sha256").update(request.source()).digest() as Uint8Array,
              // The debug info's working directory is the preprocessed text's, unless told not to be.
              cwd: plan.command.includes("-fno-working-directory") ? request.cwd : undefined,
            };
      const identity = await this.identities.identify(plan.executable);
      const command = normalizeCommand(plan.command, jobDir, plan.executable, plan.compiler);
      return cacheKey({ identity, command, environment: this.environment, input });
    } catch (error) {
      this.deps.log.warning("dcc_cache", `job not cached: its key could not be made: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async lookup(key: Uint8Array, hex: string): Promise<Shared | undefined> {
    const metrics = this.metrics as CacheMetrics;
    if (this.disk !== undefined) {
      const bytes = this.disk.read(hex);
      const output = bytes && decodeEntry(key, bytes);
      if (output !== undefined) {
        metrics.lookup("disk", "hit");
        return { outcome: "hit-disk", output };
      }
      if (bytes !== undefined) this.disk.remove(hex);
      metrics.lookup("disk", bytes === undefined ? "miss" : "corrupt");
    }
    if (this.redis !== undefined) {
      const bytes = await this.redis.get(hex);
      if (bytes === "skipped") {
        metrics.lookup("redis", "skipped");
        return undefined;
      }
      const output = bytes && decodeEntry(key, bytes);
      if (output !== undefined && bytes !== undefined) {
        metrics.lookup("redis", "hit");
        setImmediate(() => this.storeOnDisk(hex, bytes));
        return { outcome: "hit-redis", output };
      }
      if (bytes !== undefined) this.redis.remove(hex);
      metrics.lookup("redis", bytes === undefined ? "miss" : "corrupt");
    }
    return undefined;
  }

  /**
   * A successful compile becomes an entry now (the job's buffers go back to the pool after its
   * reply) and is written once the reply is on its way. Returns the entry's output, for the
   * identical jobs waiting on this one.
   */
  private keep(key: Uint8Array, hex: string, output: CompileOutput): CachedOutput | undefined {
    const { result, dependencies } = output;
    if (result.outcome !== "ok" || result.status !== 0) return undefined;
    const entry = encodeEntry(key, { stdout: result.stdout, stderr: result.stderr, object: result.object, dependencies });
    if (entry === undefined) return undefined;
    setImmediate(() => {
      this.storeOnDisk(hex, entry);
      if (this.redis !== undefined) this.track(this.redis.set(hex, entry));
    });
    return entryOutput(entry);
  }

  private storeOnDisk(hex: string, entry: Uint8Array): void {
    const disk = this.disk;
    if (disk === undefined) return;
    const write = disk.write(hex, entry).then(
      () => this.metrics?.stored("disk"),
      (error) => {
        this.metrics?.storeFailed("disk");
        const now = Date.now();
        if (now - this.lastStoreWarning < STORE_WARNING_MS) return;
        this.lastStoreWarning = now;
        this.deps.log.warning("dcc_cache", `cache entry not written to ${disk.dir}: ${(error as Error).message}`);
      },
    );
    this.track(write);
  }
}
