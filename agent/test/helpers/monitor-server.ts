/**
 * The monitor's routes served in the test process through the real stats server (serveStats,
 * behind --stats-allow 127.0.0.1), for a board and a peer directory the test drives.
 */
import type { Server } from "bun";
import { compileAllowList } from "../../src/allow-list.ts";
import { serveStats } from "../../src/metrics/http.ts";
import { Stats } from "../../src/metrics/stats.ts";
import { type Monitor, monitorRoutes } from "../../src/monitor/routes.ts";

/** Disposable, as every Bun server: `using server = serveMonitor(...)` stops it. */
export function serveMonitor(monitor: Monitor): Server<undefined> {
  const sources = {
    stats: new Stats({ active: () => 0, queued: () => 0, maxJobs: monitor.board.slots, draining: () => false }),
    statsAllow: compileAllowList(["127.0.0.1"], "--stats-allow"),
    tmpDir: "/tmp",
    argv0: "distccd",
    maxJobs: monitor.board.slots,
    activeJobs: () => 0,
    draining: () => false,
  };
  return serveStats(sources, "127.0.0.1", 0, monitorRoutes(monitor));
}
