/**
 * A test network on this machine: one "switch" namespace holding a bridge, and a namespace per
 * host, each with one veth into the bridge and an address in 10.213.0.0/16, a subnet that exists
 * only inside these namespaces. Nothing is created in the machine's own namespace, so no test
 * traffic can leave. A host may get its own /etc/hosts (`ip netns exec` bind-mounts
 * /etc/netns/NAME/hosts over /etc/hosts), so names resolve inside the test network only.
 * Everything is removed by `destroy` (and stale leftovers of an aborted run at the next start).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { alive } from "../../agent/test/helpers/wait.ts";

export const SUBNET_PREFIX = 16;

export interface Host {
  /** The namespace's name, for `ip netns exec`. */
  readonly namespace: string;
  readonly address: string;
}

function ip(args: readonly string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr.trim()}`);
}

/** Where `ip netns exec NAME` finds files to bind-mount over /etc. */
const ETC_NETNS = "/etc/netns";

function existingEtcDirs(): string[] {
  try {
    return readdirSync(ETC_NETNS);
  } catch {
    return [];
  }
}

function namespaces(): string[] {
  const result = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  return result.status === 0
    ? result.stdout
        .split("\n")
        .map((line) => line.split(" ")[0] ?? "")
        .filter(Boolean)
    : [];
}

/** True where this process may create network namespaces (root with iproute2). */
export function canCreateNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `dca${process.pid}-probe`;
  const added = spawnSync("ip", ["netns", "add", probe]).status === 0;
  if (added) spawnSync("ip", ["netns", "del", probe]);
  return added;
}

export class TestNetwork {
  private readonly hosts: Host[] = [];
  private readonly switchNamespace: string;
  private readonly prefix: string;

  constructor() {
    // Leftovers of a run that was killed before it could clean up.
    for (const name of namespaces()) {
      const owner = Number(name.match(/^dca(\d+)-/)?.[1]);
      if (Number.isInteger(owner) && !alive(owner)) spawnSync("ip", ["netns", "del", name]);
    }
    for (const name of existingEtcDirs()) {
      const owner = Number(name.match(/^dca(\d+)-/)?.[1]);
      if (Number.isInteger(owner) && !alive(owner)) rmSync(`${ETC_NETNS}/${name}`, { recursive: true, force: true });
    }
    this.prefix = `dca${process.pid}`;
    this.switchNamespace = `${this.prefix}-sw`;
    ip(["netns", "add", this.switchNamespace]);
    ip(["-n", this.switchNamespace, "link", "set", "lo", "up"]);
    ip(["-n", this.switchNamespace, "link", "add", "br0", "type", "bridge"]);
    ip(["-n", this.switchNamespace, "link", "set", "br0", "up"]);
  }

  /** A host named `name` (a few letters) with `address` on the bridge. */
  addHost(name: string, address: string): Host {
    const namespace = `${this.prefix}-${name}`;
    const port = `${this.prefix}${name}`.slice(0, 15);
    ip(["netns", "add", namespace]);
    this.hosts.push({ namespace, address });
    ip(["-n", namespace, "link", "set", "lo", "up"]);
    // Both ends are created inside the namespaces: the machine's own namespace is never touched.
    ip(["-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", this.switchNamespace]);
    ip(["-n", this.switchNamespace, "link", "set", port, "master", "br0"]);
    ip(["-n", this.switchNamespace, "link", "set", port, "up"]);
    ip(["-n", namespace, "addr", "add", `${address}/${SUBNET_PREFIX}`, "dev", "eth0"]);
    ip(["-n", namespace, "link", "set", "eth0", "up"]);
    return { namespace, address };
  }

  /** Gives `host` its own /etc/hosts: each name resolves to every address listed for it. */
  setHosts(host: Host, names: Readonly<Record<string, readonly string[]>>): void {
    const dir = `${ETC_NETNS}/${host.namespace}`;
    mkdirSync(dir, { recursive: true });
    const lines = ["127.0.0.1 localhost", ...Object.entries(names).flatMap(([name, addresses]) => addresses.map((a) => `${a} ${name}`))];
    writeFileSync(`${dir}/hosts`, `${lines.join("\n")}\n`, { mode: 0o644 });
  }

  /** The command prefix that runs a program on `host`. */
  static on(host: Host): string[] {
    return ["ip", "netns", "exec", host.namespace];
  }

  destroy(): void {
    for (const host of this.hosts) {
      spawnSync("ip", ["netns", "del", host.namespace]);
      rmSync(`${ETC_NETNS}/${host.namespace}`, { recursive: true, force: true });
    }
    spawnSync("ip", ["netns", "del", this.switchNamespace]);
  }
}
