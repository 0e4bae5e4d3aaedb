/**
 * @module The monitor's routes on the stats port: `/api/jobs`, `/api/farm`, `/api/events` and
 * the `/ui` page with its two assets. The stats server calls these after its access check, so
 * whatever guards the stats port guards them.
 */
import type { Server } from "bun";
import { type AgentInfo, agentJobs } from "./agent-jobs.ts";
import { eventStream } from "./event-stream.ts";
import { farmView, type PeerDirectory } from "./farm-view.ts";
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

/** `?since=` as epoch milliseconds; anything else means all kept jobs. */
function sinceParameter(url: URL): number | undefined {
  const since = Number(url.searchParams.get("since") ?? Number.NaN);
  return Number.isFinite(since) ? since : undefined;
}

function asset(path: string, request: Request): Response | undefined {
  const found = UI_ASSETS[path];
  if (found === undefined) return undefined;
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

/** The monitor's answer for `path`, or undefined when the path is not the monitor's. */
export function monitorRoute(monitor: Monitor, request: Request, server: Server<undefined>): Response | Promise<Response> | undefined {
  const url = new URL(request.url);
  const path = url.pathname;
  if (!(path.startsWith("/api/") || path === "/ui" || path.startsWith("/ui/"))) return undefined;
  if (request.method !== "GET" && request.method !== "HEAD")
    return new Response("only GET and HEAD\n", { status: 405, headers: { allow: "GET, HEAD" } });
  switch (path) {
    case "/api/jobs":
      return json(agentJobs(monitor.board, monitor.info, sinceParameter(url)));
    case "/api/farm": {
      const since = sinceParameter(url);
      return farmView(agentJobs(monitor.board, monitor.info, since), monitor.peers, since).then(json);
    }
    case "/api/events": {
      // Bun.serve closes a connection idle for 10 s; a quiet event stream is not idle.
      server.timeout(request, 0);
      return eventStream(monitor.board, request.signal) ?? new Response("too many event streams open\n", { status: 503 });
    }
  }
  // The page and its assets use relative addresses, so it also works behind a path prefix (kubectl proxy).
  if (path === "/ui") return new Response(null, { status: 301, headers: { location: "ui/" } });
  return asset(path, request) ?? new Response("not found\n", { status: 404 });
}
