/**
 * @module The farm, started beside the server: this agent's status, its peers, the stats
 * routes for /status and /hosts, and the zeroconf publication. main.ts starts it and calls
 * `withdraw` at the start of a drain; other modules read the peers through `directory`.
 */
import { randomUUID } from "node:crypto";
import type { CompilerWhitelist } from "../compiler-whitelist.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { agentStatus, defaultAdvertisedHost } from "./agent-status.ts";
import { type CompilerIdentity, identifyCompilers } from "./compiler-identity.ts";
import { farmRoutes } from "./farm-routes.ts";
import { formatAddress } from "./host-list.ts";
import { type PeerDirectory, PeerPoller } from "./peer-directory.ts";
import { publishZeroconf, type ZeroconfPublication } from "./zeroconf.ts";

export interface FarmOptions {
  readonly config: Config;
  readonly whitelist: CompilerWhitelist;
  readonly log: Logger;
  readonly version: string;
  /** The compilers' environment, for asking them -dumpmachine and -dumpversion. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly running: () => number;
  readonly queued: () => number;
  readonly draining: () => boolean;
  /** Optional /status sections by name (cache, sandbox), each read per request. */
  readonly statusSections?: Readonly<Record<string, () => unknown>>;
}

export interface Farm {
  readonly directory: PeerDirectory;
  /** `/status` and `/hosts`, by path, for the stats server. */
  readonly routes: Readonly<Record<string, (request: Request) => Response>>;
  /** Takes the agent out of zeroconf (goodbye packets); /status already says draining. */
  withdraw(): Promise<void>;
  stop(): Promise<void>;
}

export function startFarm(options: FarmOptions): Farm {
  const { config, log } = options;
  const farm = config.farm;
  const advertised = {
    host: farm.advertise?.host ?? defaultAdvertisedHost(config.listen),
    port: farm.advertise?.port ?? config.port,
  };
  const id = randomUUID();
  let compilers: readonly CompilerIdentity[] = options.whitelist.names.map((name) => ({ name, machine: undefined, version: undefined }));
  // Compilers run only when an answer is wanted: an agent that nobody asks never starts one.
  let identified: Promise<void> | undefined;
  const identify = () => {
    identified ??= identifyCompilers(options.whitelist, options.env).then((found) => {
      compilers = found;
    });
    return identified;
  };
  const status = () =>
    agentStatus({
      id,
      version: options.version,
      advertised,
      slots: config.jobs,
      running: options.running,
      queued: options.queued,
      draining: options.draining,
      compilers: () => {
        void identify();
        return compilers;
      },
      extra: options.statusSections ?? {},
    });
  const poller = new PeerPoller({
    entries: farm.peers,
    intervalMs: farm.peersIntervalMs,
    statsPort: config.statsPort,
    selfId: id,
    self: status,
    // Where peers reach this agent's stats port: its own address, as their polls name theirs.
    statsUrl: `http://${formatAddress(defaultAdvertisedHost(config.listen), config.statsPort)}`,
    log,
    version: options.version,
  });
  if (farm.peers.length > 0) {
    poller.start();
    log.notice(
      "dcc_peers",
      `polling ${farm.peers.length} peer entr${farm.peers.length === 1 ? "y" : "ies"} every ${farm.peersIntervalMs / 1000}s`,
      {
        peers: farm.peers.map((peer) => (peer.port ? formatAddress(peer.host, peer.port) : peer.host)).join(","),
      },
    );
  }
  log.notice("dcc_advertise", `clients should use ${formatAddress(advertised.host, advertised.port)}/${config.jobs}`);
  let zeroconf: ZeroconfPublication | undefined;
  let withdrawn = false;
  if (farm.zeroconf)
    void identify().then(() => {
      if (!withdrawn)
        zeroconf = publishZeroconf({
          port: config.port,
          jobs: config.jobs,
          version: options.version,
          compilers,
          advertisedHost: advertised.host,
          log,
        });
    });
  const withdraw = async () => {
    withdrawn = true;
    await zeroconf?.withdraw();
  };
  return {
    directory: poller,
    routes: farmRoutes({ status, livePeers: () => poller.live() }),
    withdraw,
    async stop() {
      poller.stop();
      await withdraw();
      await poller.settled();
    },
  };
}
