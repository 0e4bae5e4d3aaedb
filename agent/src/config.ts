/**
 * @module Turns parsed flags and the environment into one frozen Config, validated once at
 * start-up. Inner code never looks at argv or process.env.
 */
import { type AllowList, compileAllowList, PRIVATE_RANGES } from "./allow-list.ts";
import { parseCacheSize } from "./cache/cache-size.ts";
import type { CacheSettings } from "./cache/compile-cache.ts";
import { parser } from "./cli.ts";
import { ConfigError } from "./errors.ts";
import { type FarmConfig, parseFarmConfig } from "./farm/farm-config.ts";
import type { LogFormat, LogLevel } from "./log.ts";
import type { NumberFlag } from "./number-flag.ts";
import type { SandboxMode } from "./sandbox/sandbox-state.ts";

/** Every limit a client can run into, each with a default large enough for real builds. */
export interface Limits {
  /** Most ARGV entries in a request. */
  readonly maxArgc: number;
  /** Longest single ARGV, CDIR, NAME or LINK string, in bytes. */
  readonly maxStringBytes: number;
  /** Largest DOTI or FILE body, as sent and after LZO decompression, in bytes. */
  readonly maxSourceBytes: number;
  /** Largest compiler stdout, stderr or object, in bytes. */
  readonly maxOutputBytes: number;
  /** Most files in one pump-mode request. */
  readonly maxFiles: number;
  /** Most bytes of one pump-mode request's files together, after decompression. */
  readonly maxPumpBytes: number;
  /** Longest pump-mode NAME or LINK target, in bytes (PATH_MAX). */
  readonly maxPathBytes: number;
  /** Complete requests that may wait for a compiler slot; more are answered "busy". */
  readonly maxQueue: number;
  /** Open connections; more are closed as soon as they are accepted. */
  readonly maxConnections: number;
  /** A client that sends nothing (or reads nothing of its reply) for this long is dropped. */
  readonly idleTimeoutMs: number;
  /** A request must arrive, and its reply be taken, within this long each, however steadily it trickles. */
  readonly requestTimeoutMs: number;
}

export interface Config {
  readonly mode: "help" | "version" | "health-check" | "daemon" | "inetd";
  /** Fork into the background after the listener is bound. */
  readonly detach: boolean;
  readonly listen: string;
  readonly port: number;
  readonly allow: AllowList;
  /** True when no --allow was given and the private ranges apply by default. */
  readonly allowDefaulted: boolean;
  readonly jobs: number;
  readonly nice: number;
  readonly user: string | undefined;
  readonly pidFile: string | undefined;
  readonly lifetimeSeconds: number;
  readonly jobLifetimeSeconds: number;
  readonly stats: boolean;
  readonly statsPort: number;
  /** Who may read the stats port's pages (all but /healthz and /readyz): --stats-allow, else `allow`. */
  readonly statsAllow: AllowList;
  readonly insecure: boolean;
  readonly whitelistFile: string | undefined;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly logFile: string | undefined;
  readonly logStderr: boolean;
  /** Where job temp dirs go (TMPDIR). */
  readonly tmpDir: string;
  /** DISTCC_SAVE_TEMPS=1 keeps each job's temp dir, for debugging. */
  readonly saveTemps: boolean;
  /** PATH the compilers are looked up in (DISTCCD_PATH, else PATH). */
  readonly compilerPath: string;
  readonly limits: Limits;
  /** On SIGTERM, how long running jobs get to finish before their compilers are killed. */
  readonly shutdownGraceSeconds: number;
  /** The compile cache's tiers (--cache-*). */
  readonly cache: CacheSettings;
  /** /readyz fails while TMPDIR has less free space than this, in bytes (`--min-free-space`). */
  readonly minFreeSpaceBytes: number;
  /** `--sandbox`: confine compilers with Landlock. */
  readonly sandbox: SandboxMode;
  /** DISTCCD_SANDBOX_SIMULATE (a test seam): `abi=N` plays an older kernel, `refuse` a seccomp refusal. */
  readonly sandboxSimulate: string | undefined;
  /** Peers, advertised address, zeroconf, drain delay, SO_REUSEPORT, keepalive. */
  readonly farm: FarmConfig;
  /** Warnings found while reading flags, logged once the logger exists. */
  readonly warnings: readonly string[];
}

/** Flags whose repetitions add up; every other repeated flag takes its last value. */
const ACCUMULATED = new Set(["allow", "a", "statsAllow", "peers"]);

/** A repeated flag takes its last value, as with the C server's popt (yargs collects them all). */
function last<T>(value: T | T[]): T {
  return Array.isArray(value) ? (value.at(-1) as T) : value;
}

function integer(name: string, flag: NumberFlag, min: number, max: number): number {
  const value = Number(flag);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError("E_CONFIG_RANGE", `--${name} ${flag}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function seconds(name: string, flag: NumberFlag, min: number): number {
  const value = Number(flag);
  if (!(value >= min) || !Number.isFinite(value))
    throw new ConfigError("E_CONFIG_RANGE", `--${name} ${flag}: must be ${min} or more seconds`);
  return value;
}

function port(name: string, flag: NumberFlag): number {
  const value = Number(flag);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new ConfigError("E_CONFIG_PORT", `--${name} ${flag}: port number out of range (1-65535)`);
  return value;
}

/** The environment variable that carries the Redis URL, so its password stays out of argv. */
export const CACHE_REDIS_ENV = "DISTCCD_CACHE_REDIS";
const REDIS_SCHEME = /^(redis|valkey)(s|\+tls|\+unix|\+tls\+unix)?:\/\//;

function redisUrl(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, warnings: string[]): string | undefined {
  const url = flag ?? (env[CACHE_REDIS_ENV] || undefined);
  if (flag !== undefined && URL.parse(flag)?.password)
    warnings.push(`--cache-redis holds a password, which every user of this machine can read in argv: pass the URL in ${CACHE_REDIS_ENV}`);
  // The URL may hold a password: the message never repeats it.
  if (url !== undefined && !REDIS_SCHEME.test(url))
    throw new ConfigError(
      "E_CONFIG_CACHE_REDIS",
      `${flag !== undefined ? "--cache-redis" : CACHE_REDIS_ENV}: the URL must start with redis://, rediss:// or redis+unix://`,
    );
  return url;
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
/** Room for two of the largest bodies being stored at once, but never a demand above this. */
const MIN_FREE_SPACE_CAP = 256 * 2 ** 20;

/** `--min-free-space`: bytes, or a number with k, M or G (powers of 1024); its default follows the body limits. */
function minFreeSpace(value: string | undefined, largestBody: number): number {
  if (value === undefined) return Math.min(2 * largestBody, MIN_FREE_SPACE_CAP);
  const match = value.trim().match(/^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i);
  if (!match) throw new ConfigError("E_CONFIG_RANGE", `--min-free-space ${value}: must be a size such as 512M, 2G or 1048576`);
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] as string).toLowerCase()] as number));
}

/** One-shot modes first; then, as in the C server, stdin being a socket means inetd. */
function chooseMode(
  args: { help: boolean; version: boolean; healthCheck: boolean; inetd: boolean; daemon: boolean; wizard: boolean },
  stdinIsSocket: boolean,
): Config["mode"] {
  if (args.help) return "help";
  if (args.version) return "version";
  if (args.healthCheck) return "health-check";
  if (args.inetd) return "inetd";
  return args.daemon || args.wizard || !stdinIsSocket ? "daemon" : "inetd";
}

/** Reads the command line (without the program name) into a Config, or throws ConfigError. */
export async function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  stdinIsSocket = false,
): Promise<Config> {
  let parsed: Awaited<ReturnType<typeof parser.parseAsync>>;
  try {
    parsed = await parser.parseAsync([...argv]);
  } catch (cause) {
    const message = (cause as Error).message;
    // yargs says "Unknown arguments: bogus, bogusOption"; say it as the C server does.
    const unknown = message.match(/^Unknown arguments?: ([^,\s]+)/)?.[1];
    throw new ConfigError("E_CONFIG_FLAGS", unknown ? `--${unknown}: unknown option` : message, { cause });
  }
  const args = Object.fromEntries(
    Object.entries(parsed).map(([key, value]) => [key, ACCUMULATED.has(key) ? value : last(value)]),
  ) as typeof parsed;
  const warnings: string[] = [];
  const mode = chooseMode(args, stdinIsSocket);
  if (args.daemon && args.inetd) throw new ConfigError("E_CONFIG_FLAGS", "--daemon and --inetd cannot be used together");
  const rules = [...(args.allow as string[])];
  if (rules.some((rule) => rule === "")) throw new ConfigError("E_CONFIG_ALLOW", "--allow needs an IP address or CIDR range");
  const allowDefaulted = rules.length === 0 && mode === "daemon";
  if (allowDefaulted)
    warnings.push(`No --allow option specified: allowing only private networks and loopback (${PRIVATE_RANGES.join(" ")})`);
  if (allowDefaulted || args.allowPrivate) rules.push(...PRIVATE_RANGES);
  const statsRules = args.statsAllow as string[];
  if (statsRules.some((rule) => rule === "")) throw new ConfigError("E_CONFIG_ALLOW", "--stats-allow needs an IP address or CIDR range");
  const allow = compileAllowList(rules);
  const verbose = args.verbose || args.wizard;
  const lifetime = seconds("lifetime", args.lifetime, 0);
  const jobLifetime = seconds("job-lifetime", args.jobLifetime, 0);
  const maxSourceBytes = integer("max-source-bytes", args.maxSourceBytes, 1, 2 ** 32);
  const maxPumpBytes = integer("max-pump-bytes", args.maxPumpBytes, 1, 2 ** 40);
  return Object.freeze({
    mode,
    detach: args.detach && args.fork && !args.wizard && mode === "daemon",
    listen: args.listen,
    port: port("port", args.port),
    allow,
    allowDefaulted,
    jobs: integer("jobs", args.jobs, 1, 10_000),
    nice: integer("nice", args.nice, -40, 40),
    user: args.user,
    pidFile: args.pidFile,
    lifetimeSeconds: lifetime,
    jobLifetimeSeconds: jobLifetime,
    stats: args.stats,
    statsPort: port("stats-port", args.statsPort),
    statsAllow: statsRules.length > 0 ? compileAllowList(statsRules, "--stats-allow") : allow,
    insecure: args.enableTcpInsecure,
    whitelistFile: args.whitelist,
    logLevel: verbose ? "debug" : (args.logLevel as LogLevel),
    logFormat: args.logFormat as LogFormat,
    logFile: args.logFile,
    logStderr: args.logStderr || args.wizard,
    tmpDir: (env.TMPDIR ?? "/tmp").replace(/\/+$/, "") || "/",
    saveTemps: env.DISTCC_SAVE_TEMPS === "1",
    compilerPath: env.DISTCCD_PATH ?? env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    limits: Object.freeze({
      maxArgc: integer("max-argc", args.maxArgc, 1, 1_000_000),
      maxStringBytes: integer("max-arg-bytes", args.maxArgBytes, 256, 2 ** 31),
      maxSourceBytes,
      maxOutputBytes: integer("max-output-bytes", args.maxOutputBytes, 1, 2 ** 32),
      maxFiles: integer("max-files", args.maxFiles, 1, 10_000_000),
      maxPumpBytes,
      maxPathBytes: 4096,
      maxQueue: integer("max-queue", args.maxQueue, 0, 1_000_000),
      maxConnections: integer("max-connections", args.maxConnections, 1, 1_000_000),
      idleTimeoutMs: seconds("client-timeout", args.clientTimeout, 1) * 1000,
      requestTimeoutMs: seconds("request-timeout", args.requestTimeout, 1) * 1000,
    }),
    shutdownGraceSeconds: seconds("shutdown-grace", args.shutdownGrace, 0),
    cache: Object.freeze({
      dir: args.cacheDir === "" ? undefined : args.cacheDir,
      maxBytes: parseCacheSize(String(args.cacheSize)),
      redisUrl: redisUrl(args.cacheRedis, env, warnings),
      redisMode: args.cacheRedisMode as CacheSettings["redisMode"],
      ttlSeconds: integer("cache-ttl", args.cacheTtl, 1, 2 ** 31),
    }),
    minFreeSpaceBytes: minFreeSpace(args.minFreeSpace, Math.max(maxSourceBytes, maxPumpBytes)),
    sandbox: args.sandbox as SandboxMode,
    sandboxSimulate: env.DISTCCD_SANDBOX_SIMULATE,
    farm: parseFarmConfig(args, args.stats),
    warnings,
  });
}
