/**
 * @module The peers: every `--peers` entry resolved to its addresses (a DNS name to all of
 * them, again every interval), each address's `/status` polled once an interval. A peer that
 * answers is live, or draining if it says so; one that fails two polls in a row is lost until
 * it answers again. Only live peers go into /hosts.
 *
 * Other modules read the peers through `PeerDirectory`, a read-only view:
 *
 * ```ts
 * interface PeerDirectory {
 *   list(): readonly PeerView[];
 * }
 * ```
 *
 * `list()` returns this agent first (`self: true`, its status read now), then every peer that
 * has answered or has been lost, ordered by name: `name` is the peer's stats endpoint
 * (`HOST:PORT`), `statsUrl` its base URL (`http://HOST:PORT`, append `/status`, `/metrics`,
 * ...), `state` `live`, `draining` or `lost`, and `status` its last `/status` document (kept
 * while it is lost; absent for a peer that never answered). A peer that disappears from DNS
 * disappears from the list. The list is rebuilt on each call; callers may keep it.
 */

import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import type { Logger } from "../log.ts";
import { type AgentStatus, parseStatus } from "./agent-status.ts";
import type { PeerEntry } from "./farm-config.ts";
import { formatAddress } from "./host-list.ts";

export type PeerState = "live" | "draining" | "lost";

export interface PeerView {
  readonly name: string;
  readonly statsUrl: string;
  readonly state: PeerState;
  readonly self: boolean;
  readonly status?: unknown;
}

export interface PeerDirectory {
  list(): readonly PeerView[];
}

/** A peer is left out after this many failed polls in a row. */
const FAILURES_TO_LOSE = 2;
/** A poll gives up after this long, and always before the next round starts. */
const MAX_POLL_MS = 3000;

interface Peer {
  readonly name: string;
  readonly statsUrl: string;
  /** "pending" until the first answer or the second failure. */
  state: PeerState | "pending";
  failures: number;
  status: AgentStatus | undefined;
}

export interface PeerPollerOptions {
  readonly entries: readonly PeerEntry[];
  readonly intervalMs: number;
  /** The port of an entry that names none: this agent's stats port. */
  readonly statsPort: number;
  /** This agent's status id: an address that answers with it is this agent itself. */
  readonly selfId: string;
  readonly self: () => AgentStatus;
  readonly statsUrl: string;
  readonly log: Logger;
  readonly version: string;
  /** All addresses of a name; default: the system resolver (getaddrinfo: /etc/hosts, DNS). */
  readonly resolve?: (host: string) => Promise<string[]>;
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((entry) => entry.address);
}

export class PeerPoller implements PeerDirectory {
  private readonly peers = new Map<string, Peer>();
  /** Addresses found to be this agent: never polled again. */
  private readonly selfNames = new Set<string>();
  /** The last addresses of each DNS name, kept when a lookup fails. */
  private readonly resolved = new Map<string, string[]>();
  private readonly unresolved = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private round: Promise<void> | undefined;
  private readonly resolve: (host: string) => Promise<string[]>;

  constructor(private readonly options: PeerPollerOptions) {
    this.resolve = options.resolve ?? systemResolve;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Resolves once the round in progress (if any) is over; for tests and shutdown. */
  async settled(): Promise<void> {
    await this.round;
  }

  /** Peers whose clients may use them now. */
  live(): AgentStatus[] {
    return [...this.peers.values()].flatMap((peer) => (peer.state === "live" && peer.status ? [peer.status] : []));
  }

  list(): readonly PeerView[] {
    const self = this.options.self();
    const views: PeerView[] = [
      {
        name: this.options.statsUrl.replace(/^http:\/\//, ""),
        statsUrl: this.options.statsUrl,
        state: self.draining ? "draining" : "live",
        self: true,
        status: self,
      },
    ];
    for (const peer of [...this.peers.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (peer.state === "pending") continue;
      const view: PeerView = { name: peer.name, statsUrl: peer.statsUrl, state: peer.state, self: false };
      views.push(peer.status ? { ...view, status: peer.status } : view);
    }
    return views;
  }

  /** One round at a time: a round still waiting on slow peers makes the next tick a no-op. */
  private tick(): void {
    if (this.round) return;
    this.round = this.poll().finally(() => {
      this.round = undefined;
    });
  }

  private async poll(): Promise<void> {
    const names = new Set<string>();
    await Promise.all(
      this.options.entries.map(async (entry) => {
        const port = entry.port ?? this.options.statsPort;
        for (const address of await this.addressesOf(entry.host)) names.add(formatAddress(address, port));
      }),
    );
    for (const name of this.peers.keys()) {
      if (names.has(name)) continue;
      this.peers.delete(name);
      this.options.log.notice("dcc_peers", `peer ${name} is no longer among --peers' addresses`);
    }
    const timeoutMs = Math.min(MAX_POLL_MS, Math.max(100, this.options.intervalMs * 0.8));
    await Promise.all([...names].filter((name) => !this.selfNames.has(name)).map((name) => this.pollPeer(name, timeoutMs)));
  }

  private async addressesOf(host: string): Promise<string[]> {
    if (ipaddr.isValid(host)) return [host];
    try {
      const addresses = [...new Set(await this.resolve(host))];
      this.resolved.set(host, addresses);
      this.unresolved.delete(host);
      return addresses;
    } catch (error) {
      const kept = this.resolved.get(host) ?? [];
      // Once per failing streak: a name that stays unresolvable would fill the log every interval.
      if (!this.unresolved.has(host))
        this.options.log.warning(
          "dcc_peers",
          `cannot resolve peer name ${host}: ${(error as { code?: string }).code ?? (error as Error).message}; keeping its ${kept.length} known address(es)`,
        );
      this.unresolved.add(host);
      return kept;
    }
  }

  private async pollPeer(name: string, timeoutMs: number): Promise<void> {
    let peer = this.peers.get(name);
    if (!peer) {
      peer = { name, statsUrl: `http://${name}`, state: "pending", failures: 0, status: undefined };
      this.peers.set(name, peer);
    }
    let status: AgentStatus | undefined;
    let reason = "";
    try {
      const response = await fetch(`${peer.statsUrl}/status`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { "user-agent": `distccd/${this.options.version} peer` },
      });
      if (response.ok) {
        status = parseStatus(await response.json());
        if (!status) reason = "its /status is not an agent's";
      } else reason = `HTTP ${response.status}`;
    } catch (error) {
      reason = (error as { code?: string }).code ?? (error as Error).message;
    }
    if (status?.id === this.options.selfId) {
      this.peers.delete(name);
      this.selfNames.add(name);
      return;
    }
    if (status) this.answered(peer, status);
    else this.failed(peer, reason);
  }

  private answered(peer: Peer, status: AgentStatus): void {
    const state: PeerState = status.draining ? "draining" : "live";
    if (peer.state !== state)
      this.options.log.notice("dcc_peers", `peer ${peer.name} is ${state}: ${status.address}/${status.slots}`, { previously: peer.state });
    peer.state = state;
    peer.failures = 0;
    peer.status = status;
  }

  private failed(peer: Peer, reason: string): void {
    peer.failures++;
    if (peer.failures < FAILURES_TO_LOSE || peer.state === "lost") return;
    this.options.log.warning("dcc_peers", `peer ${peer.name} left out of /hosts: ${peer.failures} polls failed in a row (${reason})`);
    peer.state = "lost";
  }
}
