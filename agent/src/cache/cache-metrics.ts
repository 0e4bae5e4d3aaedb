/**
 * @module What the cache counts, for /metrics (registered in the agent's registry) and for the
 * `--stats` text (the same totals as `dcc_cache_*` lines).
 */
import { Counter, Gauge, type Registry } from "../metrics/prometheus.ts";

export type Tier = "disk" | "redis";
/** A lookup's result in one tier; "skipped" when Redis was down or too slow. */
export type LookupResult = "hit" | "miss" | "corrupt" | "skipped";
/** How a job was answered, as its log line says. */
export type CacheOutcome = "hit-disk" | "hit-redis" | "miss" | "off" | "bypass";

export class CacheMetrics {
  readonly totals = {
    hitDisk: 0,
    hitRedis: 0,
    miss: 0,
    bypass: 0,
    shared: 0,
    stores: 0,
    corrupt: 0,
    redisErrors: 0,
    evictions: 0,
  };
  private readonly jobs: Counter;
  private readonly lookups: Counter;
  private readonly stores: Counter;
  private readonly corrupt: Counter;
  private readonly redisErrors: Counter;
  private readonly storeErrors: Counter;
  private readonly sharedCounter: Counter;
  private readonly evictions = new Counter("distccd_cache_evictions_total", "Entries evicted from the local tier (least recently used)");

  constructor(
    registry: Registry,
    disk: { readonly entries: number; readonly bytes: number; readonly maxBytes: number } | undefined,
    redisUp: (() => boolean) | undefined,
  ) {
    this.jobs = registry.register(
      new Counter("distccd_cache_jobs_total", "Jobs by how the cache answered them (hit-disk, hit-redis, miss, bypass)", ["result"]),
    );
    this.lookups = registry.register(
      new Counter("distccd_cache_lookups_total", "Cache lookups by tier and result (hit, miss, corrupt, skipped)", ["tier", "result"]),
    );
    this.stores = registry.register(new Counter("distccd_cache_stores_total", "Entries written, by tier", ["tier"]));
    this.corrupt = registry.register(
      new Counter("distccd_cache_corrupt_entries_total", "Entries that failed their checksum, removed and treated as misses", ["tier"]),
    );
    this.redisErrors = registry.register(
      new Counter("distccd_cache_redis_errors_total", "Redis operations that failed or timed out", ["operation"]),
    );
    this.storeErrors = registry.register(
      new Counter("distccd_cache_store_errors_total", "Entries that could not be written, by tier", ["tier"]),
    );
    this.sharedCounter = registry.register(
      new Counter("distccd_cache_shared_results_total", "Jobs answered by an identical job's compile that ran at the same time"),
    );
    if (disk !== undefined) {
      registry.register(new Gauge("distccd_cache_entries", "Entries in the local tier", () => disk.entries));
      registry.register(new Gauge("distccd_cache_bytes", "Bytes of the entries in the local tier", () => disk.bytes));
      registry.register(new Gauge("distccd_cache_max_bytes", "The local tier's bound (--cache-size)", () => disk.maxBytes));
      registry.register(this.evictions);
    }
    if (redisUp !== undefined)
      registry.register(
        new Gauge("distccd_cache_redis_up", "1 while the shared tier answers, 0 while it is skipped", () => (redisUp() ? 1 : 0)),
      );
  }

  job(outcome: CacheOutcome, shared: boolean): void {
    if (outcome === "off") return;
    this.jobs.inc({ result: outcome });
    if (outcome === "hit-disk") this.totals.hitDisk++;
    else if (outcome === "hit-redis") this.totals.hitRedis++;
    else if (outcome === "miss") this.totals.miss++;
    else this.totals.bypass++;
    if (shared) {
      this.totals.shared++;
      this.sharedCounter.inc();
    }
  }

  lookup(tier: Tier, result: LookupResult): void {
    this.lookups.inc({ tier, result });
    if (result === "corrupt") {
      this.totals.corrupt++;
      this.corrupt.inc({ tier });
    }
  }

  stored(tier: Tier): void {
    this.totals.stores++;
    this.stores.inc({ tier });
  }

  storeFailed(tier: Tier): void {
    this.storeErrors.inc({ tier });
  }

  evicted(count: number): void {
    this.totals.evictions += count;
    this.evictions.inc({}, count);
  }

  redisError(operation: string): void {
    this.totals.redisErrors++;
    this.redisErrors.inc({ operation });
  }
}
