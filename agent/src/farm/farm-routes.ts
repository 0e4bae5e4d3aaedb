/**
 * @module The farm's routes on the stats port, served behind its access check: `GET /status`
 * (this agent, JSON) and `GET /hosts` (the DISTCC_HOSTS value for every live agent; `?pump=1`
 * adds `,cpp`, `?format=json` answers the entries for tools).
 */
import type { AgentStatus } from "./agent-status.ts";
import { type HostEntry, hostSpec, hostsLine, orderHosts } from "./host-list.ts";

export interface FarmRouteSources {
  readonly status: () => AgentStatus & Record<string, unknown>;
  readonly livePeers: () => readonly AgentStatus[];
}

function json(value: unknown): Response {
  return new Response(`${JSON.stringify(value, null, 2)}\n`, { headers: { "content-type": "application/json" } });
}

function hostsOf(self: AgentStatus, peers: readonly AgentStatus[]): (HostEntry & { self: boolean; status: AgentStatus })[] {
  const agents = [...(self.draining ? [] : [{ status: self, self: true }]), ...peers.map((status) => ({ status, self: false }))];
  return agents.map(({ status, self }) => ({ host: status.host, port: status.port, slots: status.slots, self, status }));
}

function hosts(url: URL, sources: FarmRouteSources): Response {
  const pump = ["1", "true", "yes"].includes(url.searchParams.get("pump") ?? "");
  const entries = hostsOf(sources.status(), sources.livePeers());
  const line = hostsLine(entries, pump);
  if (url.searchParams.get("format") === "json") {
    const hosts = orderHosts(entries).map((entry) => {
      const { self, status } = entry as (typeof entries)[number];
      return { spec: hostSpec(entry, pump), address: status.address, slots: status.slots, protocols: status.protocols, self };
    });
    return json({ line, hosts });
  }
  return new Response(`${line}\n`, { headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The farm's routes by path, for the stats server (which checks access first). */
export function farmRoutes(sources: FarmRouteSources): Record<string, (request: Request) => Response> {
  return {
    "/status": () => json(sources.status()),
    "/hosts": (request) => hosts(new URL(request.url), sources),
  };
}
