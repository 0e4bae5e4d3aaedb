/**
 * @module The stats port (`--stats`): the C server's plain-text counters at `/` (distcc-protocol.md
 * §7) and Prometheus metrics at `/metrics`, both behind the compile port's access list; and
 * `/healthz` and `/readyz`, which reveal nothing and answer anyone, so kubelet probes work
 * whatever `--allow` says.
 */
import { loadavg } from "node:os";
import type { Server } from "bun";
import type { AllowList } from "../allow-list.ts";
import { type Monitor, monitorRoute } from "../monitor/routes.ts";
import { CONTENT_TYPE } from "./prometheus.ts";
import type { Stats } from "./stats.ts";
import { diskSectors, freeMegabytes, freeMemoryMegabytes, processSummary } from "./system-load.ts";

export interface StatsSources {
  readonly stats: Stats;
  readonly allow: AllowList;
  readonly tmpDir: string;
  readonly argv0: string;
  readonly maxJobs: number;
  readonly activeJobs: () => number;
  readonly draining: () => boolean;
  /** The job monitor's /api and /ui, behind the same access check. */
  readonly monitor?: Monitor;
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

export function serveStats(sources: StatsSources, hostname: string, port: number): Server<undefined> {
  let io: { at: number; sectors: number } | undefined;
  const text = (body: string, status = 200) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
  return Bun.serve({
    hostname,
    port,
    fetch(request, server) {
      const path = new URL(request.url).pathname;
      if (path === "/healthz") return text("ok\n");
      if (path === "/readyz") return sources.draining() ? text("draining\n", 503) : text("ready\n");
      const address = server.requestIP(request)?.address ?? "";
      if (!sources.allow.allows(address)) {
        sources.stats.recordRefusal("access-list");
        return text("access denied by --allow\n", 403);
      }
      const monitored = sources.monitor && monitorRoute(sources.monitor, request, server);
      if (monitored) return monitored;
      if (path === "/metrics") {
        return new Response(sources.stats.registry.render(), { headers: { "content-type": CONTENT_TYPE } });
      }
      const result = statsText(sources, io, Date.now());
      io = result.io;
      return text(result.text);
    },
  });
}
