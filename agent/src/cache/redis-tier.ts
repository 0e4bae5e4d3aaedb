/**
 * @module The shared tier: entries in Redis or Valkey under `distccd:1:<key>` with a TTL, read
 * and written with Bun's built-in client. Redis must never stall a build: every operation has a
 * short deadline, and a Redis that fails or misses one is left alone for a while (logged,
 * counted) before it is tried again; meanwhile lookups skip it as if there were no shared tier.
 */
import { RedisClient } from "bun";
import type { Logger } from "../log.ts";

const KEY_PREFIX = "distccd:1:";
/** A lookup waits this long at most; a miss then costs a compile, never a stalled build. */
const GET_TIMEOUT_MS = 500;
/** Stores and removals run after the reply, so they may take longer. */
const WRITE_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 1000;
/** After a failure, Redis is skipped this long before the next try. */
const RETRY_MS = 5000;
/** Larger entries stay local: one object should not push a team's cache out of Redis. */
const MAX_SHARED_ENTRY = 64 << 20;

export type RedisMode = "rw" | "ro";

/** The URL without its password, for logs and /status. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface RedisEvents {
  /** A failed or timed-out operation ("get", "set", "del", "connect"). */
  error(operation: string): void;
  /** An entry was written. */
  stored(): void;
}

export class RedisTier {
  private readonly client: RedisClient;
  private connecting: Promise<void> | undefined;
  private downUntil = 0;
  private down = false;
  readonly where: string;

  constructor(
    url: string,
    readonly mode: RedisMode,
    readonly ttlSeconds: number,
    private readonly log: Logger,
    private readonly events: RedisEvents,
  ) {
    this.where = redactedUrl(url);
    this.client = new RedisClient(url, {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      autoReconnect: false,
      enableOfflineQueue: false,
    });
    this.client.onclose = () => {
      this.connecting = undefined;
    };
    void this.ready();
  }

  /** False while Redis is being left alone after a failure. */
  get up(): boolean {
    return !this.down;
  }

  /** The entry's bytes; undefined on a miss; "skipped" when Redis is down or did not answer in time. */
  async get(key: string): Promise<Uint8Array | undefined | "skipped"> {
    if (!(await this.ready())) return "skipped";
    try {
      const bytes = await withDeadline(this.client.getBuffer(KEY_PREFIX + key), GET_TIMEOUT_MS, "GET");
      this.succeeded();
      return bytes ?? undefined;
    } catch (error) {
      this.failed("get", error);
      return "skipped";
    }
  }

  /** Stores (rw mode), never rejecting; NX keeps the first copy and its TTL. */
  set(key: string, entry: Uint8Array): Promise<void> {
    if (this.mode !== "rw" || entry.length > MAX_SHARED_ENTRY) return Promise.resolve();
    return this.write("set", () => this.client.set(KEY_PREFIX + key, entry, "EX", String(this.ttlSeconds), "NX")).then((done) => {
      if (done) this.events.stored();
    });
  }

  /** Removes a corrupt entry (rw mode), so no agent reads it again. */
  remove(key: string): void {
    if (this.mode !== "rw") return;
    void this.write("del", () => this.client.del(KEY_PREFIX + key));
  }

  close(): void {
    this.client.close();
  }

  private async write(operation: string, run: () => Promise<unknown>): Promise<boolean> {
    if (!(await this.ready())) return false;
    try {
      await withDeadline(run(), WRITE_TIMEOUT_MS, operation.toUpperCase());
      this.succeeded();
      return true;
    } catch (error) {
      this.failed(operation, error);
      return false;
    }
  }

  /** Connected, or connecting within a lookup's deadline; false while Redis is left alone. */
  private async ready(): Promise<boolean> {
    if (Date.now() < this.downUntil) return false;
    if (this.client.connected) return true;
    this.connecting ??= this.client.connect();
    try {
      await withDeadline(this.connecting, GET_TIMEOUT_MS, "connect");
      return true;
    } catch (error) {
      this.connecting = undefined;
      this.failed("connect", error);
      return false;
    }
  }

  private succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.log.notice("dcc_cache", `redis ${this.where} answers again: the shared cache tier is back`);
  }

  private failed(operation: string, error: unknown): void {
    this.events.error(operation);
    // Concurrent operations fail together; one warning per retry period is enough.
    if (Date.now() < this.downUntil) return;
    this.downUntil = Date.now() + RETRY_MS;
    this.down = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.log.warning(
      "dcc_cache",
      `redis ${this.where} failed (${operation}: ${reason}): compiling without the shared tier, next try in ${RETRY_MS / 1000}s`,
    );
  }
}
