/**
 * @module The one host list: live agents as a ready DISTCC_HOSTS value (`ADDR:PORT/SLOTS,lzo`,
 * `,cpp` added for pump mode), in one order whichever agent is asked. Pure.
 */
import ipaddr from "ipaddr.js";

export interface HostEntry {
  readonly host: string;
  readonly port: number;
  readonly slots: number;
}

/** `HOST:PORT`, with an IPv6 literal in brackets as the distcc client parses it. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Addresses in numeric order (IPv4 before IPv6), names after them alphabetically. */
function sortKey(host: string): string {
  if (!ipaddr.isValid(host)) return `2${host}`;
  const bytes = ipaddr.parse(host).toByteArray();
  return `${bytes.length === 4 ? 0 : 1}${bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** Every entry once (the first of two with the same address), sorted. */
export function orderHosts(entries: readonly HostEntry[]): HostEntry[] {
  const unique = new Map<string, HostEntry>();
  for (const entry of entries) {
    const key = formatAddress(entry.host, entry.port);
    if (!unique.has(key)) unique.set(key, entry);
  }
  return [...unique.values()].sort((a, b) => {
    const [ka, kb] = [sortKey(a.host), sortKey(b.host)];
    return ka < kb ? -1 : ka > kb ? 1 : a.port - b.port;
  });
}

export function hostSpec(entry: HostEntry, pump: boolean): string {
  return `${formatAddress(entry.host, entry.port)}/${entry.slots},lzo${pump ? ",cpp" : ""}`;
}

export function hostsLine(entries: readonly HostEntry[], pump: boolean): string {
  return orderHosts(entries)
    .map((entry) => hostSpec(entry, pump))
    .join(" ");
}
