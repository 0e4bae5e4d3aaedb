/**
 * @module The stats port (`--stats`): the C server's plain-text counters at every path
 * (distcc-protocol.md §7), behind the same access list as the compile port.
 */
import { statfsSync } from "node:fs";
import { loadavg } from "node:os";
import type { Server } from "bun";
import type { AllowList } from "../allow-list.ts";
import type { JobSlots } from "../server/job-slots.ts";
import type { Stats } from "./stats.ts";

export interface StatsSources {
  readonly stats: Stats;
  readonly slots: JobSlots;
  readonly allow: AllowList;
  readonly tmpDir: string;
  readonly argv0: string;
}

function freeMegabytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return Math.floor((fs.bavail * fs.bsize) / (1024 * 1024));
  } catch {
    return -1;
  }
}

/** The C server's `<distccstats>` body. */
export function statsText(sources: StatsSources): string {
  const { stats, slots } = sources;
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  const longest = stats.longestJob;
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
    `dcc_max_kids ${slots.size}`,
    `dcc_current_load ${slots.active}`,
    `dcc_load1 ${l1.toFixed(2)}`,
    `dcc_load2 ${l5.toFixed(2)}`,
    `dcc_load3 ${l15.toFixed(2)}`,
    `dcc_free_space ${freeMegabytes(sources.tmpDir)} MB`,
    "</distccstats>",
  ];
  return `${lines.join("\n")}\n`;
}

export function serveStats(sources: StatsSources, hostname: string, port: number): Server<undefined> {
  return Bun.serve({
    hostname,
    port,
    fetch(request, server) {
      const address = server.requestIP(request)?.address ?? "";
      if (!sources.allow.allows(address)) return new Response("access denied\n", { status: 403 });
      return new Response(statsText(sources), { headers: { "content-type": "text/plain" } });
    },
  });
}
