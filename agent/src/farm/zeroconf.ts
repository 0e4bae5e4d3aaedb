/**
 * @module `--zeroconf`: publishes the agent as the C server does (zeroconf-reg.c), so clients
 * with `DISTCC_HOSTS=+zeroconf` find it: service `distcc@HOST` of type `_distcc._tcp`, TXT
 * `txtvers cpus jobs distcc gnuhost cc_version cc_machine`, and one subtype
 * `_<machine>--<version>._sub._distcc._tcp` per distinct whitelisted compiler (the client
 * browses the subtype of its own `cc`). Our own mDNS responder (bonjour-service over
 * multicast-dns), so it needs no avahi-daemon, and shares port 5353 with one if it runs.
 * A name already on the network (the agent being replaced on this host during a rolling
 * restart) makes it `distcc@HOST #2` and so on, as avahi's alternative names do for the C
 * server. Withdrawn with goodbye packets (TTL 0) when the agent drains or stops.
 */

import { arch, availableParallelism, hostname, networkInterfaces } from "node:os";
import { Bonjour } from "bonjour-service";
import type { Logger } from "../log.ts";
import { type CompilerIdentity, zeroconfSubtype } from "./compiler-identity.ts";

export interface ZeroconfOptions {
  readonly port: number;
  readonly jobs: number;
  readonly version: string;
  readonly compilers: readonly CompilerIdentity[];
  /** The address clients use: mDNS goes out of the interface that has it, if one does. */
  readonly advertisedHost: string;
  readonly log: Logger;
}

export interface ZeroconfPublication {
  /** Sends the goodbye packets and closes the responder; resolves when they are out. */
  withdraw(): Promise<void>;
}

/** How long a withdrawal may wait for its goodbye packets to be sent. */
const GOODBYE_TIMEOUT_MS = 2000;
/** How long the agent listens for the names already published before it picks its own. */
const NAME_SCAN_MS = 1000;

/** The C server's compiled-in GNU_HOST, for the `gnuhost` TXT record. */
function gnuHost(): string {
  return arch() === "arm64" ? "aarch64-unknown-linux-gnu" : "x86_64-pc-linux-gnu";
}

/** The interface address multicast leaves from: the advertised one if local, else the first external IPv4. */
function multicastInterface(advertisedHost: string): string | undefined {
  const v4 = Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && address.family === "IPv4" && !address.internal)
    .map((address) => address?.address as string);
  return v4.find((address) => address === advertisedHost) ?? v4[0];
}

/** TXT and subtypes as the C server builds them; its TXT names one compiler: the first that answered. */
export function zeroconfRecords(options: Pick<ZeroconfOptions, "jobs" | "version" | "compilers">): {
  txt: Record<string, string>;
  subtypes: string[];
} {
  const known = options.compilers.flatMap((c) => (c.machine && c.version ? [{ machine: c.machine, version: c.version }] : []));
  const first = known[0];
  const txt: Record<string, string> = {
    txtvers: "1",
    cpus: String(availableParallelism()),
    jobs: String(options.jobs),
    distcc: options.version,
    gnuhost: gnuHost(),
    ...(first ? { cc_version: first.version, cc_machine: first.machine } : {}),
  };
  return { txt, subtypes: [...new Set(known.map(zeroconfSubtype))] };
}

export function publishZeroconf(options: ZeroconfOptions): ZeroconfPublication {
  const { log } = options;
  const host = hostname();
  const iface = multicastInterface(options.advertisedHost);
  // bonjour-service hands these options to multicast-dns, whose `interface` and `bind` its
  // types omit. `interface` alone would bind that unicast address, where no multicast query
  // arrives: the socket binds the wildcard and joins the group on the interface.
  const mdnsOptions = (iface ? { interface: iface, bind: "0.0.0.0" } : {}) as ConstructorParameters<typeof Bonjour>[0];
  const bonjour = new Bonjour(mdnsOptions, (error: Error) => log.warning("dcc_zeroconf", `mDNS: ${error.message}`));
  const { txt, subtypes } = zeroconfRecords(options);
  if (subtypes.length === 0)
    log.warning("dcc_zeroconf", "no whitelisted compiler answered -dumpmachine/-dumpversion: publishing no subtype");
  const taken = new Set<string>();
  const scan = bonjour.find({ type: "distcc", protocol: "tcp" }, (found) => taken.add(found.name));
  let withdrawn = false;
  const base = `distcc@${host}`;
  let name = base;
  const publishing = Bun.sleep(NAME_SCAN_MS).then(() => {
    scan.stop();
    if (withdrawn) return;
    for (let n = 2; taken.has(name); n++) name = `${base} #${n}`;
    // Probed already, by the scan: bonjour-service's own probe gives up silently on a clash.
    const service = bonjour.publish({
      name,
      type: "distcc",
      protocol: "tcp",
      port: options.port,
      host: `${host}.local`,
      txt,
      subtypes,
      disableIPv6: true,
      probe: false,
    });
    service.on("up", () =>
      log.notice("dcc_zeroconf", `published ${name} (_distcc._tcp, port ${options.port}) over mDNS`, {
        subtypes: subtypes.join(","),
        interface: iface,
      }),
    );
    service.on("error", (error: Error) => log.warning("dcc_zeroconf", `cannot publish ${name}: ${error.message}`));
  });
  let goodbye: Promise<void> | undefined;
  return {
    withdraw() {
      withdrawn = true;
      goodbye ??= publishing.then(
        () =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(finish, GOODBYE_TIMEOUT_MS);
            function finish() {
              clearTimeout(timer);
              bonjour.destroy();
              log.notice("dcc_zeroconf", `withdrew ${name} from mDNS`);
              resolve();
            }
            bonjour.unpublishAll(finish);
          }),
      );
      return goodbye;
    },
  };
}
