/**
 * @module `HOST:PORT` as distcc writes hosts: a name or IPv4 address, or `[IPv6]`, and the port
 * (3632 when left out).
 */
import { AgentError } from "../errors.ts";

export const DEFAULT_PORT = 3632;

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
}

export function parseTarget(text: string): ProbeTarget {
  const match = text.match(/^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))(?::(\d+))?$/);
  const port = match?.[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  if (!match || !(port >= 1 && port <= 65535))
    throw new AgentError("E_PROBE_TARGET", `${text}: not HOST:PORT (a name, an IPv4 address or [IPv6], port 1-65535)`);
  return { host: (match[1] ?? match[2]) as string, port };
}

export function formatTarget({ host, port }: ProbeTarget): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
