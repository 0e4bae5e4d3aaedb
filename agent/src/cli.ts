/**
 * @module The distccd command line, in yargs: the C server's flags with its meanings and
 * defaults (distcc-protocol.md §6), plus ours. Exports the parser; never runs it on process.argv.
 */
import { availableParallelism } from "node:os";
import yargs, { type Argv } from "yargs";
import { farmOptions } from "./farm/farm-options.ts";
import { LOG_LEVELS } from "./log.ts";
import { numberFlag } from "./number-flag.ts";

function modeOptions<T>(y: Argv<T>) {
  return y
    .option("daemon", { type: "boolean", default: false, describe: "Serve TCP connections (standalone mode)" })
    .option("inetd", { type: "boolean", default: false, describe: "Serve one connection on stdin/stdout" })
    .option("detach", { type: "boolean", default: true, describe: "Detach from the terminal (--no-detach stays in the foreground)" })
    .option("fork", { type: "boolean", default: true, describe: "Accepted for compatibility; --no-fork stays in the foreground" })
    .option("fifo", { type: "boolean", default: true, hidden: true, describe: "Accepted and ignored (legacy)" })
    .option("wizard", { alias: "W", type: "boolean", default: false, describe: "Debug mode: --daemon --no-detach --log-stderr --verbose" })
    .option("pid-file", { alias: "P", type: "string", requiresArg: true, describe: "Write the daemon's pid to FILE" })
    .option("user", {
      type: "string",
      requiresArg: true,

      describe: "Run as USER when started as root (default distcc, then distccd, then nobody)",
    })
    .option("lifetime", numberFlag(0, { describe: "Exit after SECONDS (0: never)" }))
    .option("health-check", {
      type: "boolean",
      default: false,
      describe: "Probe the agent on --stats-port (else --port) and exit 0 if it is healthy",
    });
}

function networkOptions<T>(y: Argv<T>) {
  return y
    .option("port", numberFlag(3632, { alias: "p", describe: "TCP port to listen on" }))
    .option("listen", { type: "string", requiresArg: true, default: "0.0.0.0", describe: "Address to listen on (IPv4 or IPv6 literal)" })
    .option("allow", {
      alias: "a",
      type: "string",
      requiresArg: true,
      array: true,
      default: [] as string[],
      describe: "Allow clients from IP[/BITS] (repeatable)",
    })
    .option("allow-private", {
      type: "boolean",
      default: false,
      describe: "Allow private networks and loopback (the default without --allow)",
    })
    .option("stats", { type: "boolean", default: false, describe: "Serve statistics over HTTP" })
    .option("stats-allow", {
      type: "string",
      requiresArg: true,
      array: true,
      default: [] as string[],
      describe: "Allow IP[/BITS] to the stats port's pages but /healthz and /readyz (repeatable; default: the --allow list)",
    })
    .option("stats-port", numberFlag(3633, { describe: "Port of the statistics server" }));
}

function jobOptions<T>(y: Argv<T>) {
  return y
    .option(
      "jobs",
      numberFlag(availableParallelism() + 2, {
        alias: "j",
        describe: "Most compilers run at once (default: CPUs + 2)",
      }),
    )
    .option("nice", numberFlag(5, { alias: "N", describe: "Lower the scheduling priority by N" }))
    .option("job-lifetime", numberFlag(0, { describe: "Kill a compiler after SECONDS (0: never)" }))
    .option("whitelist", {
      type: "string",
      requiresArg: true,

      describe: "File of allowed compiler names, one a line (default /usr/lib/distcc/whitelist)",
    })
    .option("enable-tcp-insecure", {
      alias: "make-me-a-botnet",
      type: "boolean",
      default: false,
      describe: "Run any compiler a client names (no whitelist)",
    })
    .option("sysroot", { type: "string", requiresArg: true, hidden: true, describe: "Accepted for compatibility with distcc HEAD" })
    .option("sandbox", {
      type: "string",
      requiresArg: true,
      choices: ["auto", "required", "off"],
      default: "auto",
      describe: "Confine compilers with Landlock: auto (when the kernel can), required (refuse to start without), off",
    });
}

/** Every limit a client can run into, each with a flag (Config keeps the defaults' reasons). */
function limitOptions<T>(y: Argv<T>) {
  return y
    .option(
      "client-timeout",
      numberFlag(60, {
        describe: "Drop a client silent this many SECONDS mid-request or mid-reply",
      }),
    )
    .option(
      "request-timeout",
      numberFlag(300, {
        describe: "Drop a client whose request, or the reading of its reply, takes longer than SECONDS",
      }),
    )
    .option("min-free-space", {
      type: "string",
      requiresArg: true,
      describe: "/readyz fails while TMPDIR has less free space than SIZE (k, M, G; default 2 x the largest body limit, at most 256M)",
    })
    .option("max-argc", numberFlag(4096, { describe: "Most arguments in one request" }))
    .option(
      "max-arg-bytes",
      numberFlag(65536, {
        describe: "Longest argument, CDIR, NAME or LINK, in bytes",
      }),
    )
    .option(
      "max-source-bytes",
      numberFlag(1 << 30, {
        describe: "Largest source or pump file, sent or decompressed, in bytes",
      }),
    )
    .option(
      "max-output-bytes",
      numberFlag(256 << 20, {
        describe: "Largest compiler stdout, stderr or object, in bytes",
      }),
    )
    .option("max-files", numberFlag(100_000, { describe: "Most files in one pump request" }))
    .option(
      "max-pump-bytes",
      numberFlag(4 * 2 ** 30, {
        describe: "Most bytes of one pump request's files together",
      }),
    )
    .option(
      "max-queue",
      numberFlag(1000, {
        describe: "Most complete requests waiting for a compiler; more are told the server is busy",
      }),
    )
    .option(
      "max-connections",
      numberFlag(2000, {
        describe: "Most open client connections; more are closed at once",
      }),
    )
    .option(
      "shutdown-grace",
      numberFlag(25, {
        describe: "On SIGTERM, SECONDS running jobs get to finish",
      }),
    );
}

function logOptions<T>(y: Argv<T>) {
  return y
    .option("log-stderr", { type: "boolean", default: false, describe: "Log to stderr" })
    .option("log-file", { type: "string", requiresArg: true, describe: "Log to FILE (reopened on SIGHUP)" })
    .option("log-level", {
      type: "string",
      requiresArg: true,

      choices: LOG_LEVELS,
      default: "notice",
      describe: "Least severe level logged",
    })
    .option("log-format", { type: "string", requiresArg: true, choices: ["text", "json"], default: "text", describe: "Log line format" })
    .option("verbose", { type: "boolean", default: false, describe: "Same as --log-level=debug" });
}

/** The compile cache (agent/src/cache): off unless a tier is given. */
function cacheOptions<T>(y: Argv<T>) {
  return y
    .option("cache-dir", { type: "string", requiresArg: true, describe: "Keep a local compile cache in DIR (created 0700)" })
    .option("cache-size", {
      type: "string",
      requiresArg: true,
      default: "2G",
      describe: "Bound the local cache (k, M, G suffixes); least recently used entries go first",
    })
    .option("cache-redis", {
      type: "string",
      requiresArg: true,
      describe: "Share the cache through Redis at URL (redis://, rediss://, redis+unix://); better: the env DISTCCD_CACHE_REDIS",
    })
    .option("cache-ttl", numberFlag(7 * 24 * 3600, { describe: "Seconds a Redis entry lives" }))
    .option("cache-redis-mode", {
      type: "string",
      requiresArg: true,
      choices: ["rw", "ro"],
      default: "rw",
      describe: "rw: read and fill the shared cache; ro: only read it",
    });
}

const USAGE = `distccd: a distcc compile server (distcc-agent)

Usage:
   distccd [OPTIONS]
   distccd --daemon --no-detach --allow 127.0.0.1 --log-stderr`;

/** The parser; main.ts and tests call parse on it. Unknown flags are errors, as in the C server. */
export const parser = cacheOptions(
  farmOptions(logOptions(limitOptions(jobOptions(networkOptions(modeOptions(yargs().version(false).help(false))))))),
)
  .option("help", { type: "boolean", default: false, describe: "Show this help and exit" })
  .option("version", { type: "boolean", default: false, describe: "Show the version and exit" })
  .usage(USAGE)
  .scriptName("distccd")
  .strict(true)
  // Numeric flags stay text until config.ts converts them (number-flag.ts says why).
  .parserConfiguration({ "camel-case-expansion": true, "strip-aliased": true, "duplicate-arguments-array": true, "parse-numbers": false })
  .exitProcess(false)
  .fail(false)
  .wrap(null);
