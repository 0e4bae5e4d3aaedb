/**
 * @module The stats port (`--stats`): the C server's plain-text counters at `/` (distcc-protocol.md
 * §7) and Prometheus metrics at `/metrics`, behind `--stats-allow` (by default the compile
 * port's `--allow`); and `/healthz` and `/readyz`, which reveal nothing and answer anyone, so
 * kubelet probes work whatever the access lists say. Every other route goes through
 * {@link guarded}: one access check for all of them.
 */
import { loadavg } from "node:os";
import type { Server } from "bun";
import type { AllowList } from "../allow-list.ts";
import { CONTENT_TYPE } from "./prometheus.ts";
import type { Stats } from "./stats.ts";
import { diskSectors, freeMegabytes, freeMemoryMegabytes, processSummary } from "./system-load.ts";

export interface StatsSources {
  readonly stats: Stats;
  /** Who may read every route but the probes (`--stats-allow`). */
  readonly statsAllow: AllowList;
  readonly tmpDir: string;
  readonly argv0: string;
  readonly maxJobs: number;
  readonly activeJobs: () => number;
  readonly draining: () => boolean;
  /** Why the agent should get no jobs now besides draining (its temp space is short), or undefined. */
  readonly unready?: () => string | undefined;
}

/** The C server's `<distccstats>` text; `io` carries the previous disk sample between calls. */
function statsText(
  sources: StatsSources,
  io: { at: number; sectors: number } | undefined,
  now: number,
): { text: string; io: { at: number; sectors: number } } {
  const { stats } = sources;
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  const longest = stats.longestJob;
  const processes = processSummary();
  const sectors = diskSectors();
  const seconds = io ? (now - io.at) / 1000 : 0;
  const ioRate = io && seconds > 0 ? Math.round((sectors - io.sectors) / seconds) : -1;
  const lines = [
    `argv /${sources.argv0}`,
    "<distccstats>",
    `dcc_tcp_accept ${stats.tcpAccept}`,
    `dcc_rej_bad_req ${stats.results.REJ_BAD_REQ}`,
    `dcc_rej_overload ${stats.results.REJ_OVERLOAD}`,
    `dcc_compile_ok ${stats.results.COMPILE_OK}`,
    `dcc_compile_error ${stats.results.COMPILE_ERROR}`,
    `dcc_compile_timeout ${stats.results.COMPILE_TIMEOUT}`,
    `dcc_cli_disconnect ${stats.results.CLI_DISCONN}`,
    `dcc_other ${stats.results.OTHER}`,
    `dcc_longest_job ${longest?.input ?? "none"}`,
    `dcc_longest_job_compiler ${longest?.compiler ?? "none"}`,
    `dcc_longest_job_time_msecs ${longest?.ms ?? 0}`,
    `dcc_max_kids ${sources.maxJobs}`,
    `dcc_avg_kids1 ${stats.averageBusy(1)}`,
    `dcc_avg_kids2 ${stats.averageBusy(5)}`,
    `dcc_avg_kids3 ${stats.averageBusy(15)}`,
    `dcc_current_load ${sources.activeJobs()}`,
    `dcc_load1 ${l1.toFixed(2)}`,
    `dcc_load2 ${l5.toFixed(2)}`,
    `dcc_load3 ${l15.toFixed(2)}`,
    `dcc_num_compiles1 ${stats.compilesIn(1)}`,
    `dcc_num_compiles2 ${stats.compilesIn(5)}`,
    `dcc_num_compiles3 ${stats.compilesIn(15)}`,
    `dcc_num_procstate_D ${processes.stateD}`,
    `dcc_max_RSS ${Math.round(processes.maxRss)}`,
    `dcc_max_RSS_name ${processes.maxRssName}`,
    `dcc_io_rate ${ioRate}`,
    `dcc_free_space ${freeMegabytes(sources.tmpDir)} MB`,
    `dcc_free_mem ${freeMemoryMegabytes()} MB`,
    "</distccstats>",
  ];
  return { text: `${lines.join("\n")}\n`, io: { at: now, sectors } };
}

const text = (body: string, status = 200) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** A route's answer to one request that has passed the access check. */
export type StatsRoute = (request: Request) => Response | Promise<Response>;

/** Kubelet probes: open to anyone, so they must never say more than ok, ready, draining or low on temp space. */
function probeRoute(path: string, sources: StatsSources): Response | undefined {
  if (path === "/healthz") return text("ok\n");
  if (path === "/readyz") {
    const reason = sources.draining() ? "draining" : sources.unready?.();
    return reason === undefined ? text("ready\n") : text(`${reason}\n`, 503);
  }
  return undefined;
}

/** The one access check in front of every route but the probes. */
function guarded(sources: StatsSources, server: Server<undefined>, request: Request, route: StatsRoute): Response | Promise<Response> {
  const address = server.requestIP(request)?.address ?? "";
  if (!sources.statsAllow.allows(address)) {
    sources.stats.recordRefusal("access-list");
    return text("access denied by --stats-allow\n", 403);
  }
  return route(request);
}

/** The route for a path: an exact key, else the longest key ending in `/` that starts it. */
function routeFor(table: Readonly<Record<string, StatsRoute>>, path: string): StatsRoute | undefined {
  const exact = table[path];
  if (exact) return exact;
  let best = "";
  for (const key of Object.keys(table)) if (key.endsWith("/") && path.startsWith(key) && key.length > best.length) best = key;
  return best ? table[best] : undefined;
}

/**
 * Serves the probes, `routes` (a path, or a prefix ending in `/`, to its handler) and the C
 * server's stats text for any other path, as the C server answers any request with it.
 */
export function serveStats(
  sources: StatsSources,
  hostname: string,
  port: number,
  routes: Readonly<Record<string, StatsRoute>> = {},
  /** SO_REUSEPORT (`--reuse-port`): the agent replacing this one binds the port beside it. */
  reusePort = false,
): Server<undefined> {
  let io: { at: number; sectors: number } | undefined;
  const statsPage: StatsRoute = () => {
    const result = statsText(sources, io, Date.now());
    io = result.io;
    return text(result.text);
  };
  const table: Readonly<Record<string, StatsRoute>> = {
    "/metrics": () => new Response(sources.stats.registry.render(), { headers: { "content-type": CONTENT_TYPE } }),
    ...routes,
  };
  return Bun.serve({
    hostname,
    port,
    reusePort,
    fetch(request, server) {
      const path = new URL(request.url).pathname;
      return probeRoute(path, sources) ?? guarded(sources, server, request, routeFor(table, path) ?? statsPage);
    },
  });
}
