/**
 * @module `distccd --health-check`: probes a running agent from the same machine (an image
 * HEALTHCHECK without curl). Asks `/healthz` on the stats port; an agent without `--stats` is
 * healthy when its compile port accepts a connection.
 */
import type { Config } from "./config.ts";

const PROBE_TIMEOUT_MS = 3000;

/** The address to probe: a wildcard listener is reached on loopback. */
function probeHost(listen: string): string {
  if (listen === "0.0.0.0" || listen === "") return "127.0.0.1";
  if (listen === "::") return "::1";
  return listen;
}

async function httpHealthy(host: string, port: number): Promise<boolean> {
  const hostname = host.includes(":") ? `[${host}]` : host;
  try {
    const response = await fetch(`http://${hostname}:${port}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok;
  } catch {
    return false;
  }
}

async function tcpAccepts(host: string, port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  try {
    await Bun.connect({
      hostname: host,
      port,
      socket: {
        open(socket) {
          resolve(true);
          socket.end();
        },
        data() {},
        connectError() {
          resolve(false);
        },
      },
    });
  } catch {
    resolve(false);
  }
  const healthy = await promise;
  clearTimeout(timer);
  return healthy;
}

/** Returns what was found, for the one line the command prints. */
export async function checkHealth(config: Config): Promise<{ healthy: boolean; detail: string }> {
  const host = probeHost(config.listen);
  if (await httpHealthy(host, config.statsPort)) return { healthy: true, detail: `healthy: /healthz on ${host}:${config.statsPort}` };
  if (await tcpAccepts(host, config.port)) return { healthy: true, detail: `healthy: ${host}:${config.port} accepts connections` };
  return { healthy: false, detail: `unhealthy: no answer on ${host}:${config.statsPort}/healthz nor on ${host}:${config.port}` };
}
