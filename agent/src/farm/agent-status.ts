/**
 * @module This agent's `/status` document: what a peer, a tool or the monitor needs to know of
 * it (the address clients should use, slots, load, draining, protocols, compilers, version),
 * plus optional sections other modules hang on it (cache, sandbox) through `extra`.
 */
import { networkInterfaces } from "node:os";
import type { CompilerIdentity } from "./compiler-identity.ts";
import { formatAddress } from "./host-list.ts";

/** The fields every agent's /status has; peers are read through `parseStatus`. */
export interface AgentStatus {
  /** Random per process: an agent that finds itself among its peers recognises the id. */
  readonly id: string;
  readonly version: string;
  /** `HOST:PORT` (IPv6 in brackets), as it goes into DISTCC_HOSTS. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Compiler slots (`--jobs`): the `/LIMIT` of this agent's DISTCC_HOSTS entry. */
  readonly slots: number;
  readonly running: number;
  readonly queued: number;
  readonly draining: boolean;
  readonly protocols: readonly number[];
  readonly compilers: readonly CompilerIdentity[];
}

export interface StatusSources {
  readonly id: string;
  readonly version: string;
  readonly advertised: { readonly host: string; readonly port: number };
  readonly slots: number;
  readonly running: () => number;
  readonly queued: () => number;
  readonly draining: () => boolean;
  readonly compilers: () => readonly CompilerIdentity[];
  /**
   * Optional sections by name (`cache`, `sandbox`, ...), each read when /status is asked. A
   * section that returns undefined is left out; one that throws shows its error.
   */
  readonly extra: Readonly<Record<string, () => unknown>>;
}

/** Protocol versions the agent serves (distcc-protocol.md §1). */
export const PROTOCOLS = [1, 2, 3] as const;

export function agentStatus(sources: StatusSources): AgentStatus & Record<string, unknown> {
  const sections: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(sources.extra)) {
    try {
      const value = read();
      if (value !== undefined) sections[name] = value;
    } catch (error) {
      sections[name] = { error: (error as Error).message };
    }
  }
  const { host, port } = sources.advertised;
  return {
    ...sections,
    id: sources.id,
    version: sources.version,
    address: formatAddress(host, port),
    host,
    port,
    slots: sources.slots,
    running: sources.running(),
    queued: sources.queued(),
    draining: sources.draining(),
    protocols: PROTOCOLS,
    compilers: sources.compilers(),
  };
}

/** A peer's answer, if it has the fields /hosts needs; anything else is a failed poll. */
export function parseStatus(value: unknown): AgentStatus | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const status = value as Record<string, unknown>;
  const ok =
    typeof status.id === "string" &&
    typeof status.address === "string" &&
    typeof status.host === "string" &&
    Number.isInteger(status.port) &&
    Number.isInteger(status.slots) &&
    (status.slots as number) > 0 &&
    typeof status.draining === "boolean";
  return ok ? (status as unknown as AgentStatus) : undefined;
}

const WILDCARDS = new Set(["", "0.0.0.0", "::"]);

/**
 * What clients should use when `--advertise` is not given: the listen address, or for a
 * wildcard listener this machine's first external address (IPv4 first, as distcc clients
 * and DISTCC_HOSTS lines mostly are), else loopback.
 */
export function defaultAdvertisedHost(listen: string): string {
  if (!WILDCARDS.has(listen)) return listen;
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && !address.internal);
  const v4 = external.find((address) => address?.family === "IPv4");
  const v6 = external.find((address) => address?.family === "IPv6" && !address.address.startsWith("fe80:"));
  return v4?.address ?? v6?.address ?? (listen === "::" ? "::1" : "127.0.0.1");
}
