/**
 * @module The farm's part of the Config: peers, advertised address, zeroconf and the rolling
 * restart settings, validated once at start-up (ConfigError on anything malformed).
 */
import ipaddr from "ipaddr.js";
import { ConfigError } from "../errors.ts";
import type { NumberFlag } from "../number-flag.ts";

/** One `--peers` entry: an IP literal or DNS name, and the stats port its agents answer on. */
export interface PeerEntry {
  readonly host: string;
  /** Undefined: the same stats port as this agent's. */
  readonly port: number | undefined;
}

export interface FarmConfig {
  readonly peers: readonly PeerEntry[];
  readonly peersIntervalMs: number;
  /** What clients should use for this agent; undefined: derived from --listen and --port. */
  readonly advertise: { readonly host: string; readonly port: number | undefined } | undefined;
  readonly zeroconf: boolean;
  /** After SIGTERM, how long /readyz fails while new jobs are still accepted. */
  readonly drainDelayMs: number;
  readonly reusePort: boolean;
  /** Idle time before TCP keepalive probes on client connections; 0: off. */
  readonly keepaliveSeconds: number;
}

export interface FarmArgs {
  readonly peers: readonly string[];
  readonly peersInterval: NumberFlag;
  readonly advertise: string | undefined;
  readonly zeroconf: boolean;
  readonly drainDelay: NumberFlag;
  readonly reusePort: boolean;
  readonly keepalive: NumberFlag;
}

/** RFC 1123 host names (labels of letters, digits and hyphens), as DNS and /etc/hosts take them. */
const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** `HOST`, `HOST:PORT`, `[IPV6]:PORT` or a bare IPv6 literal. */
export function parseHostPort(text: string, flag: string): { host: string; port: number | undefined } {
  const bracketed = text.match(/^\[([^\]]+)\](?::(\d+))?$/);
  const plain = bracketed ? undefined : text.match(/^([^:]+)(?::(\d+))?$/);
  const host = bracketed?.[1] ?? plain?.[1] ?? (ipaddr.IPv6.isValid(text) ? text : undefined);
  const portText = bracketed?.[2] ?? plain?.[2];
  const hostOk = host !== undefined && (ipaddr.isValid(host) ? !host.includes(":") || ipaddr.IPv6.isValid(host) : HOST_NAME.test(host));
  if (!hostOk) throw new ConfigError("E_CONFIG_HOST", `--${flag} ${text}: not HOST[:PORT] (an IP address or a DNS name)`);
  if (portText === undefined) return { host, port: undefined };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigError("E_CONFIG_PORT", `--${flag} ${text}: port number out of range (1-65535)`);
  return { host, port };
}

function seconds(name: string, flag: NumberFlag, min: number, max: number): number {
  const value = Number(flag);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new ConfigError("E_CONFIG_RANGE", `--${name} ${flag}: must be from ${min} to ${max} seconds`);
  return value;
}

export function parseFarmConfig(args: FarmArgs, stats: boolean): FarmConfig {
  const peers = args.peers
    .flatMap((value) => value.split(","))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => parseHostPort(entry, "peers"));
  if (peers.length > 0 && !stats)
    throw new ConfigError("E_CONFIG_FLAGS", "--peers needs --stats: peers are polled on, and /hosts is served from, the stats port");
  return Object.freeze({
    peers: Object.freeze(peers),
    peersIntervalMs: seconds("peers-interval", args.peersInterval, 0.1, 3600) * 1000,
    advertise: args.advertise === undefined ? undefined : parseHostPort(args.advertise, "advertise"),
    zeroconf: args.zeroconf,
    drainDelayMs: seconds("drain-delay", args.drainDelay, 0, 3600) * 1000,
    reusePort: args.reusePort,
    keepaliveSeconds: Math.round(seconds("keepalive", args.keepalive, 0, 86_400)),
  });
}
