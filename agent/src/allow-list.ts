/**
 * @module Which client addresses may connect (`--allow`, `--allow-private`), compiled once at
 * start-up into a matcher (distcc-protocol.md §6.1). IPv4 rules also match IPv4-mapped IPv6
 * clients (`::ffff:a.b.c.d` on a `::` listener).
 */
import ipaddr from "ipaddr.js";
import { ConfigError } from "./errors.ts";

/** `--allow-private`, and the default when no `--allow` is given (C HEAD's list, with ::1). */
export const PRIVATE_RANGES: readonly string[] = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "127.0.0.0/8",
  "fe80::/10",
  "fc00::/7",
  "::1/128",
];

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Decisions remembered per client address, at most. */
const MAX_REMEMBERED = 4096;

export interface AllowList {
  /** The rules as given, normalised (`10.0.0.0/8`), for logs and NOTES. */
  readonly rules: readonly string[];
  allows(address: string): boolean;
}

/** `IP` alone means the single address; a bad address or mask is a ConfigError naming the flag. */
function parseRule(rule: string, flag: string): Range {
  try {
    if (rule.includes("/")) return ipaddr.parseCIDR(rule);
    const address = ipaddr.parse(rule);
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch (cause) {
    throw new ConfigError("E_CONFIG_ALLOW", `${flag} ${rule}: not an IP address or CIDR range`, { cause });
  }
}

export function compileAllowList(rules: readonly string[], flag = "--allow"): AllowList {
  const ranges = rules.map((rule) => parseRule(rule, flag));
  const v4 = ranges.filter(([address]) => address.kind() === "ipv4") as [ipaddr.IPv4, number][];
  const v6 = ranges.filter(([address]) => address.kind() === "ipv6") as [ipaddr.IPv6, number][];
  const judge = (text: string): boolean => {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      address = ipaddr.parse(text.replace(/%.*$/, ""));
    } catch {
      return false;
    }
    if (address.kind() === "ipv6") {
      const v6address = address as ipaddr.IPv6;
      if (v6.some(([range, bits]) => v6address.match(range, bits))) return true;
      if (!v6address.isIPv4MappedAddress()) return false;
      address = v6address.toIPv4Address();
    }
    const v4address = address as ipaddr.IPv4;
    return v4.some(([range, bits]) => v4address.match(range, bits));
  };
  // Every connection asks, and build clients come back from the same few addresses: parsing
  // and matching once per address instead of once per job. Bounded, so a scan of many
  // addresses cannot grow it without end.
  const decisions = new Map<string, boolean>();
  return {
    rules: ranges.map(([address, bits]) => `${address.toString()}/${bits}`),
    allows(text: string): boolean {
      let allowed = decisions.get(text);
      if (allowed === undefined) {
        allowed = judge(text);
        if (decisions.size >= MAX_REMEMBERED) decisions.clear();
        decisions.set(text, allowed);
      }
      return allowed;
    },
  };
}
