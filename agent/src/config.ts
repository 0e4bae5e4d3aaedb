/**
 * @module Turns parsed flags and the environment into one frozen Config, validated once at
 * start-up. Inner code never looks at argv or process.env.
 */
import { type AllowList, compileAllowList, PRIVATE_RANGES } from "./allow-list.ts";
import { parser } from "./cli.ts";
import { ConfigError } from "./errors.ts";
import type { LogFormat, LogLevel } from "./log.ts";

/** Every limit a client can run into, each with a default large enough for real builds. */
export interface Limits {
  /** Most ARGV entries in a request. */
  readonly maxArgc: number;
  /** Longest single ARGV, CDIR, NAME or LINK string, in bytes. */
  readonly maxStringBytes: number;
  /** Largest DOTI or FILE body as sent, in bytes. */
  readonly maxSourceBytes: number;
  /** Largest source after LZO decompression, in bytes. */
  readonly maxDecompressedBytes: number;
  /** Most files in one pump-mode request. */
  readonly maxFiles: number;
  /** Most bytes of one pump-mode request's files together, after decompression. */
  readonly maxPumpBytes: number;
  /** Longest pump-mode NAME or LINK target, in bytes. */
  readonly maxPathBytes: number;
  /** A client that sends nothing for this long while its request is incomplete is dropped. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxArgc: 4096,
  maxStringBytes: 64 * 1024,
  maxSourceBytes: 1024 * 1024 * 1024,
  maxDecompressedBytes: 1024 * 1024 * 1024,
  maxFiles: 100_000,
  maxPumpBytes: 4 * 1024 * 1024 * 1024,
  maxPathBytes: 4096,
  idleTimeoutMs: 60_000,
});

export interface Config {
  readonly mode: "help" | "version" | "daemon" | "inetd";
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
  /** Warnings found while reading flags, logged once the logger exists. */
  readonly warnings: readonly string[];
}

/** A repeated flag takes its last value, as with the C server's popt (yargs collects them all). */
function last<T>(value: T | T[]): T {
  return Array.isArray(value) ? (value.at(-1) as T) : value;
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError("E_CONFIG_RANGE", `--${name} ${value}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function port(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new ConfigError("E_CONFIG_PORT", `--${name} ${value}: port number out of range (1-65535)`);
  return value;
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
    Object.entries(parsed).map(([key, value]) => [key, key === "allow" || key === "a" ? value : last(value)]),
  ) as typeof parsed;
  const warnings: string[] = [];
  const mode = args.help
    ? "help"
    : args.version
      ? "version"
      : args.inetd
        ? "inetd"
        : args.daemon || args.wizard || !stdinIsSocket
          ? "daemon"
          : "inetd";
  if (args.daemon && args.inetd) throw new ConfigError("E_CONFIG_FLAGS", "--daemon and --inetd cannot be used together");
  const rules = [...(args.allow as string[])];
  if (rules.some((rule) => rule === "")) throw new ConfigError("E_CONFIG_ALLOW", "--allow needs an IP address or CIDR range");
  const allowDefaulted = rules.length === 0 && mode === "daemon";
  if (allowDefaulted)
    warnings.push(`No --allow option specified: allowing only private networks and loopback (${PRIVATE_RANGES.join(" ")})`);
  if (allowDefaulted || args.allowPrivate) rules.push(...PRIVATE_RANGES);
  if (args.zeroconf) warnings.push("--zeroconf is not supported by this server and is ignored");
  const verbose = args.verbose || args.wizard;
  const lifetime = args.lifetime;
  const jobLifetime = args.jobLifetime;
  if (!(lifetime >= 0)) throw new ConfigError("E_CONFIG_RANGE", `--lifetime ${lifetime}: must be 0 or more seconds`);
  if (!(jobLifetime >= 0)) throw new ConfigError("E_CONFIG_RANGE", `--job-lifetime ${jobLifetime}: must be 0 or more seconds`);
  return Object.freeze({
    mode,
    detach: args.detach && args.fork && !args.wizard && mode === "daemon",
    listen: args.listen,
    port: port("port", args.port),
    allow: compileAllowList(rules),
    allowDefaulted,
    jobs: integer("jobs", args.jobs, 1, 10_000),
    nice: integer("nice", args.nice, -40, 40),
    user: args.user,
    pidFile: args.pidFile,
    lifetimeSeconds: lifetime,
    jobLifetimeSeconds: jobLifetime,
    stats: args.stats,
    statsPort: port("stats-port", args.statsPort),
    insecure: args.enableTcpInsecure,
    whitelistFile: args.whitelist,
    logLevel: verbose ? "debug" : (args.logLevel as LogLevel),
    logFormat: args.logFormat as LogFormat,
    logFile: args.logFile,
    logStderr: args.logStderr || args.wizard,
    tmpDir: (env.TMPDIR ?? "/tmp").replace(/\/+$/, "") || "/",
    saveTemps: env.DISTCC_SAVE_TEMPS === "1",
    compilerPath: env.DISTCCD_PATH ?? env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    limits: DEFAULT_LIMITS,
    warnings,
  });
}
