/**
 * The stats server's seam for more pages (/status, /hosts, /api, /ui ...): every route given to
 * serveStats sits behind the one --stats-allow check, as / and /metrics do; only /healthz and
 * /readyz answer anyone. A real Bun.serve on loopback, asked from 127.0.0.1 and from ::1.
 */
import { expect, test } from "bun:test";
import { compileAllowList } from "../../src/allow-list.ts";
import { serveStats } from "../../src/metrics/http.ts";
import { Stats } from "../../src/metrics/stats.ts";

function server(statsAllow: string[]) {
  const stats = new Stats({ active: () => 0, queued: () => 0, maxJobs: 2, draining: () => false });
  const sources = {
    stats,
    statsAllow: compileAllowList(statsAllow, "--stats-allow"),
    tmpDir: "/tmp",
    argv0: "distccd",
    maxJobs: 2,
    activeJobs: () => 0,
    draining: () => false,
  };
  const routes = {
    "/status": () => Response.json({ node: "here" }),
    "/ui/": (request: Request) => new Response(`ui page ${new URL(request.url).pathname}`),
  };
  return { stats, served: serveStats(sources, "::", 0, routes) };
}

const get = async (host: string, port: number, path: string) => {
  const response = await fetch(`http://${host}:${port}${path}`);
  return `${response.status} ${await response.text()}`;
};

test("a route added by another module answers allowed clients, and 403 with a counted refusal to the rest", async () => {
  const { stats, served } = server(["127.0.0.1"]);
  try {
    const port = served.port as number;
    expect(await get("127.0.0.1", port, "/status")).toBe('200 {"node":"here"}');
    expect(await get("127.0.0.1", port, "/ui/assets/app.js")).toBe("200 ui page /ui/assets/app.js");
    expect(await get("[::1]", port, "/status")).toBe("403 access denied by --stats-allow\n");
    expect(await get("[::1]", port, "/ui/")).toBe("403 access denied by --stats-allow\n");
    expect(await get("[::1]", port, "/healthz")).toBe("200 ok\n");
    expect(await get("[::1]", port, "/readyz")).toBe("200 ready\n");
    expect(stats.registry.render()).toContain('distccd_refusals_total{reason="access-list"} 2');
  } finally {
    served.stop(true);
  }
});

test("the C server's stats text still answers any other path, behind the same check", async () => {
  const { served } = server(["::1"]);
  try {
    const port = served.port as number;
    expect(await get("[::1]", port, "/anything")).toContain("<distccstats>");
    expect(await get("127.0.0.1", port, "/anything")).toBe("403 access denied by --stats-allow\n");
  } finally {
    served.stop(true);
  }
});
