/**
 * @module The monitor's routes on the stats port: `/api/jobs`, `/api/farm`, `/api/events` and
 * the `/ui/` page with its two assets. The stats server puts them behind its one access check
 * (`--stats-allow`), so whatever guards the stats port guards them.
 */
import type { StatsRoute } from "../metrics/http.ts";
import { type AgentInfo, agentJobs } from "./agent-jobs.ts";
import { eventStream } from "./event-stream.ts";
import { farmView, type PeerDirectory, type SinceFor } from "./farm-view.ts";
import type { JobBoard } from "./job-board.ts";
import { UI_ASSETS } from "./ui-assets.ts";

export interface Monitor {
  readonly board: JobBoard;
  readonly info: AgentInfo;
  readonly peers?: PeerDirectory;
}

const NO_STORE = { "cache-control": "no-store" };

function json(body: unknown): Response {
  return Response.json(body, { headers: NO_STORE });
}

function milliseconds(value: string | null): number | undefined {
  const since = Number(value ?? Number.NaN);
  return Number.isFinite(since) ? since : undefined;
}

/** `?since=` as epoch milliseconds; anything else means all kept jobs. */
function sinceParameter(request: Request): number | undefined {
  return milliseconds(new URL(request.url).searchParams.get("since"));
}

/** `?since.NAME=` for an agent whose clock differs from this one's, else `?since=`. */
function sinceFor(request: Request): SinceFor {
  const params = new URL(request.url).searchParams;
  return (agent) => milliseconds(params.get(`since.${agent}`)) ?? milliseconds(params.get("since"));
}

function asset(request: Request): Response {
  const found = UI_ASSETS[new URL(request.url).pathname];
  if (found === undefined) return new Response("not found\n", { status: 404 });
  if (request.headers.get("if-none-match") === found.etag) return new Response(null, { status: 304, headers: { etag: found.etag } });
  return new Response(found.body, {
    headers: {
      "content-type": found.type,
      etag: found.etag,
      "cache-control": "no-cache",
      // The page shows names chosen by clients: it builds text nodes only, and nothing but this agent may run.
      "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      "x-content-type-options": "nosniff",
    },
  });
}

/** Reading routes: anything but GET and HEAD is refused. */
function reading(route: StatsRoute): StatsRoute {
  return (request) =>
    request.method === "GET" || request.method === "HEAD"
      ? route(request)
      : new Response("only GET and HEAD\n", { status: 405, headers: { allow: "GET, HEAD" } });
}

/** The monitor's routes for serveStats: exact paths, and `/ui/` for the page and its assets. */
export function monitorRoutes(monitor: Monitor): Record<string, StatsRoute> {
  return {
    "/api/jobs": reading((request) => json(agentJobs(monitor.board, monitor.info, sinceParameter(request)))),
    "/api/farm": reading((request) => {
      const since = sinceFor(request);
      return farmView(agentJobs(monitor.board, monitor.info, since(monitor.info.name)), monitor.peers, since).then(json);
    }),
    "/api/events": reading(
      (request) => eventStream(monitor.board, request) ?? new Response("too many event streams open\n", { status: 503 }),
    ),
    // The page and its assets use relative addresses, so it also works behind a path prefix (kubectl proxy).
    "/ui": reading(() => new Response(null, { status: 301, headers: { location: "ui/" } })),
    "/ui/": reading(asset),
  };
}
