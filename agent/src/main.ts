/**
 * @module Entry point: argv -> Config -> real dependencies -> serve. The only place that sets
 * the exit code: 101 bad options, 102 cannot bind, 107 a start-up path it cannot use (log file,
 * pid file, whitelist, TMPDIR), 110 no compiler whitelist (as the C server). `distccd probe` is
 * a client mode with its own options (probe/).
 */
// First, for `bun agent/src/main.ts` (the build's entry.ts imports it too): in the compiler
// watchdog's process, this runs the watchdog before anything below loads.
import "./watchdog-mode.ts";
import { fstatSync, rmSync } from "node:fs";
import { arch, hostname } from "node:os";
import packageJson from "../../package.json" with { type: "json" };
import { CompileCache, describeCacheSettings } from "./cache/compile-cache.ts";
import { makeUndumpable } from "./cache/undumpable.ts";
import { parser } from "./cli.ts";
import { loadCompilerWhitelist } from "./compiler-whitelist.ts";
import { CACHE_REDIS_ENV, type Config, parseConfig } from "./config.ts";
import { DETACHED_CHILD_ENV, reportToParent, startDetached } from "./daemon.ts";
import { AgentError, ConfigError } from "./errors.ts";
import { type Farm, startFarm } from "./farm/farm.ts";
import { checkHealth } from "./health-check.ts";
import { serveInetd } from "./inetd.ts";
import { CompilerWatchdog } from "./job/compiler-watchdog.ts";
import { JobDirs, removeStaleJobDirs } from "./job/job-dir.ts";
import { freeBytes, TempSpaceWatch } from "./job/temp-space.ts";
import { fileTarget, Logger, stderrTarget } from "./log.ts";
import { serveStats } from "./metrics/http.ts";
import { Stats } from "./metrics/stats.ts";
import { JobBoard } from "./monitor/job-board.ts";
import { phaseMetrics } from "./monitor/phase-metrics.ts";
import { type Monitor, monitorRoutes } from "./monitor/routes.ts";
import { sandboxSummary } from "./monitor/sandbox-summary.ts";
import { lowerPriority } from "./priority.ts";
import { dropPrivileges } from "./privileges.ts";
import { PROBE_COMMAND, runProbe } from "./probe/command.ts";
import { startSandbox } from "./sandbox/confined-spawn.ts";
import { checkRequired, decideSandbox, describeSandbox, sandboxInfoMetric, sandboxStatus } from "./sandbox/sandbox-state.ts";
import { BufferPool } from "./server/buffer-pool.ts";
import type { Connection, ServerContext } from "./server/connection.ts";
import { JobSlots } from "./server/job-slots.ts";
import { listen } from "./server/listener.ts";
import { MemoryBudget } from "./server/memory-budget.ts";
import { atStartup, checkTmpDir, StartupPathError, writePidFile } from "./startup/path-errors.ts";

const EXIT_BAD_ARGUMENTS = 101;
const EXIT_BIND_FAILED = 102;
const EXIT_IO_ERROR = 107;
const EXIT_COMPILER_MISSING = 110;
/** `--sandbox required` on a kernel that cannot confine: the C server's code for failing to give up privileges. */
const EXIT_SANDBOX_UNAVAILABLE = 112;
/** After killing compilers at the end of a drain, how long their temp dirs get to disappear. */
const KILL_SETTLE_MS = 5000;
/**
 * Empty job dirs kept for reuse, at least. Every connection holds one from its first token, also
 * while it waits for a compiler: a burst of clients (64 at once against --jobs 4) needs that many.
 */
const KEPT_JOB_DIRS = 256;
/** Large buffers kept between jobs, at most: a few jobs' bodies, objects and compressed replies. */
const KEPT_BUFFER_BYTES = 32 << 20;
/** Compressed bodies waiting in memory, all connections together; the rest wait on disk. */
const BODY_MEMORY_BYTES = 64 << 20;

function versionText(protocols: string, cache: string): string {
  const target = arch() === "arm64" ? "aarch64-unknown-linux-gnu" : "x86_64-pc-linux-gnu";
  return [
    `distccd ${packageJson.version} ${target}`,
    `  (protocols ${protocols}) (default port 3632)`,
    `  ${cache}`,
    "  distcc-agent: a distcc server in TypeScript, built with Bun.",
    `  Licensed under the ${packageJson.license}. ${packageJson.repository}`,
    "",
  ].join("\n");
}

function stdinIsSocket(): boolean {
  try {
    return fstatSync(0).isSocket();
  } catch {
    return false;
  }
}

function makeLogger(config: Config): Logger {
  const file = config.logFile;
  const target = file !== undefined ? atStartup("open log file", file, () => fileTarget(file)) : stderrTarget();
  return new Logger(config.logLevel, config.logFormat, target);
}

/** Fails with the C server's wording and exit code for a bad command line. */
function badArguments(message: string): number {
  process.stderr.write(`distccd: ERROR: ${message}\n`);
  return EXIT_BAD_ARGUMENTS;
}

/** A start-up failure reaches whoever waits for it: the detaching parent, or stderr. */
function startupFailure(detachedChild: boolean, code: number, message: string): number {
  if (detachedChild) reportToParent(`error ${code} ${message}`);
  else process.stderr.write(`distccd: ERROR: ${message}\n`);
  return code;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === PROBE_COMMAND) return runProbe(argv.slice(1));
  let config: Config;
  try {
    config = await parseConfig(argv, process.env, stdinIsSocket());
  } catch (error) {
    if (error instanceof ConfigError) return badArguments(error.message);
    throw error;
  }
  if (config.mode === "help") {
    process.stdout.write(`${await parser.getHelp()}\n`);
    return 0;
  }
  if (config.mode === "version") {
    process.stdout.write(
      `${versionText("1, 2 and 3", describeCacheSettings(config.cache))}  ${describeSandbox(decideSandbox(config.sandbox, config.tmpDir, config.sandboxSimulate).status)}\n`,
    );
    return 0;
  }
  if (config.mode === "health-check") {
    const { healthy, detail } = await checkHealth(config);
    process.stdout.write(`${detail}\n`);
    return healthy ? 0 : 1;
  }
  const detachedChild = process.env[DETACHED_CHILD_ENV] === "1";
  let account: ReturnType<typeof dropPrivileges>;
  try {
    // Before detaching, as the C server: the pid file and every job belong to the unprivileged user.
    account = dropPrivileges(config.user);
  } catch (error) {
    if (error instanceof ConfigError) return badArguments(error.message);
    throw error;
  }
  if (config.mode === "daemon" && config.detach && !detachedChild) {
    const pidFile = config.pidFile;
    try {
      // Written before the daemon starts, so a pid file nobody can write stops it from starting
      // at all; the daemon's own pid replaces this one once it is bound.
      if (pidFile !== undefined) writePidFile(pidFile, process.pid);
    } catch (error) {
      return startupFailure(false, EXIT_IO_ERROR, (error as Error).message);
    }
    const started = await startDetached(argv, process.env);
    if (!started.ok) {
      if (pidFile !== undefined) rmSync(pidFile, { force: true });
      process.stderr.write(`distccd: ERROR: ${started.message}\n`);
      return started.exitCode;
    }
    if (pidFile !== undefined) writePidFile(pidFile, started.pid);
    return 0;
  }
  let log: Logger;
  let ctx: ServerContext;
  let monitor: Monitor | undefined;
  let sandbox: ReturnType<typeof startSandbox>;
  const slots = new JobSlots(config.jobs);
  /** Set when SIGTERM starts the drain; read by /readyz and the metrics. */
  const lifecycle = { draining: false };
  try {
    log = makeLogger(config);
    checkTmpDir(config.tmpDir);
    // Before anything is logged: a refusal to start is the only line.
    const sandboxDecision = checkRequired(decideSandbox(config.sandbox, config.tmpDir, config.sandboxSimulate));
    const sandboxState = sandboxDecision.status;
    if (account) log.info("dcc_discard_root", `running as ${account.name} (uid ${account.uid})`);
    else if (config.user !== undefined) log.warning("dcc_discard_root", "--user is ignored when not started as root");
    for (const warning of config.warnings) log.warning("dcc_setup_daemon", warning);
    const whitelist = loadCompilerWhitelist({
      file: config.whitelistFile,
      insecure: config.insecure,
      path: config.compilerPath,
      env: process.env,
    });
    log.notice("dcc_check_compiler_whitelist", `compilers are checked against the ${whitelist.source}`);
    for (const name of whitelist.names) {
      const decision = whitelist.check(name);
      const path = decision.allowed ? decision.path : undefined;
      if (path) log.notice("dcc_check_compiler_whitelist", `whitelisted ${name} -> ${path}`);
      else log.warning("dcc_check_compiler_whitelist", `whitelisted ${name} is not installed on this server's PATH`);
    }
    const stats = new Stats({
      active: () => slots.active,
      queued: () => slots.queued,
      maxJobs: config.jobs,
      draining: () => lifecycle.draining,
      tempSpace: { free: () => freeBytes(config.tmpDir), minFree: config.minFreeSpaceBytes },
    });
    // The Redis URL may hold a password: compilers run client-chosen code, so they never see it.
    const env = {
      ...process.env,
      PATH: config.compilerPath,
      _DISTCC_SAFEGUARD: "1",
      [DETACHED_CHILD_ENV]: undefined,
      [CACHE_REDIS_ENV]: undefined,
    };
    sandbox = startSandbox(sandboxDecision, {
      ahead: config.mode !== "inetd",
      env,
      tmpDir: config.tmpDir,
      whitelist,
      log,
    });
    const cache = new CompileCache(config.cache, { env, log, registry: stats.registry, oneJob: config.mode === "inetd" });
    if (cache.enabled) log.notice("dcc_cache", describeCacheSettings(config.cache));
    if (config.cache.redisUrl !== undefined && !makeUndumpable())
      log.warning("dcc_cache", "could not make the agent undumpable: its compilers may read the Redis URL in /proc");
    const board = config.stats ? new JobBoard({ slots: config.jobs, observePhase: phaseMetrics(stats.registry) }) : undefined;
    if (board)
      monitor = {
        board,
        info: {
          name: hostname(),
          version: packageJson.version,
          draining: () => lifecycle.draining,
          refusals: () => stats.refusals(),
          sandbox: () => sandboxSummary(sandboxState),
        },
      };
    ctx = {
      config,
      whitelist,
      log,
      slots,
      stats,
      jobEvents: board,
      spawn: new CompilerWatchdog(log).guard(sandbox.spawn),
      env,
      cache,
      connections: new Set<Connection>(),
      jobDirs: new JobDirs(config.tmpDir, Math.max(config.jobs * 2, KEPT_JOB_DIRS)),
      bodyMemory: new MemoryBudget(BODY_MEMORY_BYTES),
      buffers: new BufferPool(KEPT_BUFFER_BYTES),
    };
  } catch (error) {
    if (error instanceof StartupPathError) return startupFailure(detachedChild, EXIT_IO_ERROR, error.message);
    if (error instanceof ConfigError)
      return startupFailure(
        detachedChild,
        error.code === "E_CONFIG_NO_WHITELIST"
          ? EXIT_COMPILER_MISSING
          : error.code === "E_CONFIG_SANDBOX"
            ? EXIT_SANDBOX_UNAVAILABLE
            : EXIT_BAD_ARGUMENTS,
        error.message,
      );
    throw error;
  }
  ctx.stats.registry.register(sandboxInfoMetric(sandboxStatus));
  const stale = removeStaleJobDirs(config.tmpDir);
  if (stale.groups.length > 0)
    log.warning("dcc_cleanup", `killed compiler process group(s) left running by an agent that is gone: ${stale.groups.join(" ")}`);
  if (stale.dirs.length > 0)
    log.notice("dcc_cleanup", `removed ${stale.dirs.length} job dir(s) left by an agent that is gone: ${stale.dirs.join(" ")}`);
  if (config.nice !== 0) lowerPriority(config.nice);

  try {
    if (config.mode === "inetd") {
      await serveInetd(ctx);
      return 0;
    }
    return await serve(config, ctx, lifecycle, detachedChild, monitor);
  } finally {
    sandbox.stop();
    ctx.jobDirs.clear();
    await ctx.cache.close();
  }
}

/** Waits until every connection has settled, or `ms` has passed; true if all settled. */
async function settle(connections: Iterable<Connection>, ms: number): Promise<boolean> {
  const all = Promise.all([...connections].map((connection) => connection.settled)).then(() => true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = await Promise.race([all, timeout]);
  clearTimeout(timer);
  return settled;
}

async function serve(
  config: Config,
  ctx: ServerContext,
  lifecycle: { draining: boolean },
  detachedChild: boolean,
  monitor: Monitor | undefined,
): Promise<number> {
  const { log } = ctx;
  // Handlers first: a SIGTERM right after the pid file appears must still end the server cleanly.
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => log.reopen());
  if (config.lifetimeSeconds > 0) setTimeout(() => stop(`--lifetime ${config.lifetimeSeconds}s`), config.lifetimeSeconds * 1000);

  let server: ReturnType<typeof listen>;
  let stats: ReturnType<typeof serveStats> | undefined;
  let farm: Farm | undefined;
  try {
    server = listen(ctx, config.listen, config.port);
    farm = startFarm({
      config,
      whitelist: ctx.whitelist,
      log,
      version: packageJson.version,
      env: ctx.env,
      running: () => ctx.slots.active,
      queued: () => ctx.slots.queued,
      draining: () => lifecycle.draining,
      // /status sections of other modules, by name, each read per request.
      statusSections: { sandbox: sandboxStatus, cache: () => ctx.cache.state() },
    });
    if (config.stats) {
      const argv0 = (process.argv[1] ?? "distccd").split("/").pop() ?? "distccd";
      const tempSpace = new TempSpaceWatch(config.tmpDir, config.minFreeSpaceBytes, log);
      const sources = {
        stats: ctx.stats,
        statsAllow: config.statsAllow,
        tmpDir: config.tmpDir,
        argv0,
        maxJobs: config.jobs,
        activeJobs: () => ctx.slots.active,
        draining: () => lifecycle.draining,
        cache: ctx.cache,
        unready: () => tempSpace.unready(),
      };
      // The monitor sees the farm's peers through its directory (this agent listed first, as self).
      const pages = monitor ? { ...farm.routes, ...monitorRoutes({ ...monitor, peers: farm.directory }) } : farm.routes;
      stats = serveStats(sources, config.listen, config.statsPort, pages, config.farm.reusePort);
    }
  } catch (error) {
    await farm?.stop();
    return startupFailure(
      detachedChild,
      EXIT_BIND_FAILED,
      `failed to bind ${config.listen} port ${config.port}: ${(error as Error).message}`,
    );
  }
  if (config.pidFile !== undefined && !detachedChild) {
    try {
      writePidFile(config.pidFile, process.pid);
    } catch (error) {
      server.stop(true);
      stats?.stop(true);
      return startupFailure(detachedChild, EXIT_IO_ERROR, (error as Error).message);
    }
  }
  if (detachedChild) reportToParent(`ready ${process.pid}`);
  log.notice("dcc_listen", `listening on ${config.listen}:${server.port}, allowing up to ${config.jobs} active jobs`, {
    allow: config.allow.rules.join(","),
    stats: stats ? stats.port : undefined,
  });
  // The build starts the executable with reluctant JIT tiers (--compile-jit-policy), so option
  // parsing and set-up, which run once, are not compiled; serving gets the normal policy.
  Bun.unsafe.setJITPolicy(1);

  const reason = await stopped;
  // Drain: /readyz, /status and zeroconf say so at once; new jobs are still taken for
  // --drain-delay (endpoints and peers take that long to stop sending: a refused connection
  // backs the client off), then no new connections and running jobs get --shutdown-grace.
  lifecycle.draining = true;
  const withdrawn = farm.withdraw();
  if (config.farm.drainDelayMs > 0) {
    log.notice(
      "dcc_daemon_terminate",
      `draining (${reason}): ${ctx.connections.size} connection(s) in flight; /readyz fails, new jobs are still taken for --drain-delay ${config.farm.drainDelayMs / 1000}s`,
    );
    await Bun.sleep(config.farm.drainDelayMs);
  }
  await withdrawn;
  server.stop(false);
  const busy = ctx.connections.size;
  log.notice(
    "dcc_daemon_terminate",
    `terminating (${reason}): ${busy} connection(s) in flight, up to ${config.shutdownGraceSeconds}s to finish`,
  );
  if (!(await settle(ctx.connections, config.shutdownGraceSeconds * 1000))) {
    log.warning(
      "dcc_daemon_terminate",
      `${ctx.connections.size} job(s) still running after ${config.shutdownGraceSeconds}s: killing their compilers`,
    );
    const remaining = [...ctx.connections];
    for (const connection of remaining) connection.kill();
    await settle(remaining, KILL_SETTLE_MS);
  }
  server.stop(true);
  await farm.stop();
  stats?.stop(true);
  if (config.pidFile !== undefined) rmSync(config.pidFile, { force: true });
  log.notice("dcc_daemon_terminate", "stopped");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    process.exit(code);
  },
  (error) => {
    const detail = error instanceof AgentError ? `${error.code}: ${error.message}` : (error as Error).stack;
    process.stderr.write(`distccd: CRITICAL! ${detail}\n`);
    process.exit(100);
  },
);
