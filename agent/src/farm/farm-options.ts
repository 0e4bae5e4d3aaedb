/**
 * @module The command-line flags of the farm: peers and the one host list, zeroconf, and what
 * keeps a client from ever backing an agent off (drain delay, SO_REUSEPORT, TCP keepalive).
 * An option group for cli.ts's parser; farm-config.ts turns the values into a FarmConfig.
 */
import type { Argv } from "yargs";
import { numberFlag } from "../number-flag.ts";

export function farmOptions<T>(y: Argv<T>) {
  return y
    .option("peers", {
      type: "string",
      requiresArg: true,
      array: true,
      default: [] as string[],
      describe:
        "Other agents, comma-separated HOST[:STATS_PORT] (repeatable); a DNS name stands for all its addresses, re-resolved every --peers-interval",
    })
    .option(
      "peers-interval",
      numberFlag(5, {
        describe: "SECONDS between polls of the peers' /status (a peer failing two in a row is left out)",
      }),
    )
    .option("advertise", {
      type: "string",
      requiresArg: true,
      describe: "HOST[:PORT] clients should use for this agent, in /status and /hosts (default: --listen and --port)",
    })
    .option("zeroconf", {
      type: "boolean",
      default: false,
      describe: "Publish _distcc._tcp over mDNS as the C server does, withdrawn when the agent drains",
    })
    .option(
      "drain-delay",
      numberFlag(0, {
        describe: "On SIGTERM, SECONDS /readyz fails while new jobs are still accepted, before the drain",
      }),
    )
    .option("reuse-port", {
      type: "boolean",
      default: false,
      describe: "Bind with SO_REUSEPORT, so a new agent can share the ports during a rolling restart",
    })
    .option(
      "keepalive",
      numberFlag(60, {
        describe: "TCP keepalive on client connections after SECONDS idle (0: off)",
      }),
    );
}
