/**
 * Several nodes on one machine: three "node" and two "client" network namespaces on a private
 * bridge, an agent in each node started with exactly the arguments the chart renders for a
 * hostNetwork DaemonSet (allow list: the nodes' and the first client's subnets; peers: the
 * headless Service's name, which each node's /etc/hosts resolves to all three), and the real
 * distcc client building across them: a multi-file PowerPC project, and zlib during a rolling
 * restart. A fourth node publishes itself over zeroconf to an avahi-daemon in a client. Runs
 * as root (CI does); elsewhere it says why it skips.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BINARY, sharedTempDir } from "../../agent/test/helpers/agent.ts";
import { type ClientRun, distcc, run } from "../../agent/test/helpers/distcc.ts";
import { GCC, GXX, toolchain } from "../../agent/test/helpers/toolchain.ts";
import { until } from "../../agent/test/helpers/wait.ts";
import { startAvahi } from "../helpers/avahi.ts";
import { find, render } from "../helpers/helm.ts";
import { canCreateNamespaces, type Host, TestNetwork } from "../helpers/netns.ts";
import { zlibProject } from "../helpers/zlib-project.ts";

const SUPPORTED = canCreateNamespaces();
if (!SUPPORTED) console.error("cluster tests skipped: creating network namespaces needs root and iproute2 (CI runs them)");

const ALLOWED_SUBNET = "10.213.1.0/24";
/** The agents poll each other's stats port: --stats-allow names their subnet too. */
const NODES_SUBNET = "10.213.0.0/24";
const UNITS = 18;
const JOBS = 2;
/** The chart's distccd.peers.interval and drainDelay for this test, in seconds. */
const PEERS_INTERVAL = 0.5;
const DRAIN_DELAY = 3;
const STATS_PORT = 3633;

interface Node {
  readonly host: Host;
  readonly tmpDir: string;
  /** Searched for compilers before the toolchain (a slower wrapper for the drained node). */
  readonly compilerPath?: string;
  /** The node's current agent (a rolling restart replaces it). */
  agent: Agent;
}

interface Agent {
  readonly proc: ReturnType<typeof Bun.spawn>;
  log: string;
}

let network: TestNetwork;
let nodes: Node[];
let allowed: Host;
let outsider: Host;
let agentArgs: string[];
let whitelist: string;
let peersName: string;

/** The DaemonSet's container args as the chart renders them for hostNetwork, with this test's values. */
function chartArgs(): string[] {
  const objects = render(4, {
    hostNetwork: true,
    distccd: {
      allow: [NODES_SUBNET, ALLOWED_SUBNET],
      stats: { allow: [NODES_SUBNET, ALLOWED_SUBNET] },
      jobs: JOBS,
      logLevel: "info",
      drainDelay: DRAIN_DELAY,
      peers: { interval: PEERS_INTERVAL },
    },
  });
  const dir = sharedTempDir("cluster-whitelist-");
  whitelist = join(dir, "whitelist");
  writeFileSync(whitelist, find(objects, "ConfigMap").data?.whitelist ?? "", { mode: 0o644 });
  return find(objects, "DaemonSet").spec.template.spec.containers[0].args as string[];
}

/** An agent on `node` with the chart's args, $(NODE_IP) expanded as the kubelet does. */
function spawnAgent(node: Node, extra: readonly string[] = []): Agent {
  const args = agentArgs.map((arg) => arg.replace("$(NODE_IP)", node.host.address));
  const proc = Bun.spawn([...TestNetwork.on(node.host), AGENT_BINARY, ...args, "--whitelist", whitelist, ...extra], {
    env: { ...process.env, PATH: [node.compilerPath, toolchain().bin, process.env.PATH].filter(Boolean).join(":"), TMPDIR: node.tmpDir },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const agent: Agent = { proc, log: "" };
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) agent.log += new TextDecoder().decode(chunk);
  })();
  return agent;
}

function startAgent(node: Node): void {
  node.agent = spawnAgent(node);
}

/** An HTTP GET from inside `from` (curl), answering the status and body. */
async function get(from: Host, url: string): Promise<{ status: number; body: string }> {
  const proc = Bun.spawn([...TestNetwork.on(from), "curl", "-s", "--max-time", "3", "-w", "\n%{http_code}", url], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
  });
  const [text] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut).replace(/\n$/, "") };
}

const statsUrl = (node: Node, path: string) => `http://${node.host.address}:${STATS_PORT}${path}`;

/** What `node`'s /hosts answers the allowed client. */
async function hostsFrom(node: Node, query = ""): Promise<string> {
  return (await get(allowed, statsUrl(node, `/hosts${query}`))).body.trim();
}

/** The DISTCC_HOSTS line for `members`, as /hosts must write it. */
const lineOf = (members: readonly Node[]) => members.map((node) => `${node.host.address}:3632/${JOBS},lzo`).join(" ");

/** Waits until every node in `askers` answers exactly the line of `members`. */
async function untilHostsAre(askers: readonly Node[], members: readonly Node[], what: string, ms = 10_000): Promise<void> {
  const want = lineOf(members);
  await until(async () => (await Promise.all(askers.map((node) => hostsFrom(node)))).every((line) => line === want), what, ms);
}

function project(): string {
  const dir = sharedTempDir("cluster-project-");
  mkdirSync(join(dir, "include"));
  writeFileSync(join(dir, "include/shared.h"), "#include <stdio.h>\n#include <string.h>\nstruct pair { int a, b; };\n");
  for (let i = 0; i < UNITS; i++) {
    writeFileSync(
      join(dir, `unit${i}.c`),
      `#include "shared.h"\n#include <stdlib.h>\nint unit${i}(struct pair *p, char *buf) {\n  snprintf(buf, 64, "%d-%d", p->a * ${i + 1}, p->b);\n  return (int)strlen(buf) + abs(p->a - ${i});\n}\n`,
    );
  }
  return dir;
}

/**
 * The build: every unit through distcc from `client`, six at a time, sharing one DISTCC_DIR as
 * under `make -j`. One slot per node (`/1`): the clients fill hosts in list order, so with six
 * jobs at once every node gets work.
 */
async function build(
  client: Host,
  dir: string,
  env: Record<string, string> = {},
  hosts = nodes.map((node) => `${node.host.address}/1,lzo`).join(" "),
): Promise<ClientRun[]> {
  const distccDir = sharedTempDir("cluster-distcc-dir-");
  const results: ClientRun[] = new Array(UNITS);
  let next = 0;
  const worker = async () => {
    while (next < UNITS) {
      const i = next++;
      results[i] = await distcc([GCC, "-O2", "-Iinclude", "-c", `unit${i}.c`, "-o", `unit${i}.o`], {
        hosts,
        cwd: dir,
        env,
        prefix: TestNetwork.on(client),
        distccDir,
      });
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return results;
}

/** The same units compiled locally: what every distributed object must equal. */
async function expectObjectsEqualLocal(dir: string): Promise<void> {
  for (let i = 0; i < UNITS; i++) {
    expect((await run([GCC, "-O2", "-Iinclude", "-c", `unit${i}.c`, "-o", `unit${i}.local.o`], dir)).exitCode).toBe(0);
    expect(readFileSync(join(dir, `unit${i}.o`))).toEqual(readFileSync(join(dir, `unit${i}.local.o`)));
  }
}

/**
 * The distcc client's zeroconf daemon outlives the client (it detaches and browses until its
 * hosts file goes unused): it is the process holding the write lock on `lock`.
 */
function stopZeroconfDaemon(lock: string): void {
  let inode: number;
  try {
    inode = statSync(lock).ino;
  } catch {
    return;
  }
  for (const line of readFileSync("/proc/locks", "utf8").split("\n")) {
    const [, pid, id] = line.match(/POSIX\s+\S+\s+WRITE\s+(\d+)\s+(\S+)/) ?? [];
    if (pid && id?.split(":")[2] === String(inode)) process.kill(Number(pid), "SIGTERM");
  }
}

const compiledFrom = (node: Node, client: Host) =>
  node.agent.log.match(new RegExp(`client: ${client.address.replace(/\./g, "\\.")}:\\d+ COMPILE_OK`, "g"))?.length ?? 0;

describe.skipIf(!SUPPORTED)("a cluster of three nodes", () => {
  beforeAll(async () => {
    network = new TestNetwork();
    agentArgs = chartArgs();
    // The third node compiles half a second slower (same compiler underneath): its jobs are
    // surely still running when the drain test sends SIGTERM.
    const slow = sharedTempDir("cluster-slow-bin-");
    for (const name of [GCC, GXX]) {
      writeFileSync(join(slow, name), `#!/bin/sh\nsleep 0.5\nexec ${join(toolchain().bin, name)} "$@"\n`, { mode: 0o755 });
    }
    nodes = ["n1", "n2", "n3"].map((name, i) => ({
      host: network.addHost(name, `10.213.0.${11 + i}`),
      tmpDir: sharedTempDir(`cluster-${name}-`),
      compilerPath: name === "n3" ? slow : undefined,
      agent: undefined as never,
    }));
    allowed = network.addHost("c1", "10.213.1.21");
    outsider = network.addHost("c2", "10.213.2.22");
    // The headless Service's name, as cluster DNS answers it: every node's address.
    peersName = (agentArgs[agentArgs.indexOf("--peers") + 1] ?? "").replace(/:\d+$/, "");
    for (const node of nodes) network.setHosts(node.host, { [peersName]: nodes.map((n) => n.host.address) });
    for (const node of nodes) startAgent(node);
    await until(() => nodes.every((node) => node.agent.log.includes("listening on")), "every agent to listen");
  });

  afterAll(async () => {
    for (const node of nodes ?? []) {
      node.agent?.proc.kill("SIGKILL");
      await node.agent?.proc.exited;
    }
    network?.destroy();
  });

  test("the agents run the chart's DaemonSet arguments", () => {
    expect(agentArgs.slice(0, 3)).toEqual(["--daemon", "--no-fork", "--log-stderr"]);
    expect(agentArgs.join(" ")).toContain(`--allow ${NODES_SUBNET} --allow ${ALLOWED_SUBNET}`);
    expect(agentArgs.join(" ")).toContain(`--stats-allow ${NODES_SUBNET} --stats-allow ${ALLOWED_SUBNET}`);
    expect(agentArgs.join(" ")).toContain(`--peers ${peersName}:${STATS_PORT} --peers-interval ${PEERS_INTERVAL}`);
    expect(agentArgs).toContain("--reuse-port");
    for (const node of nodes) expect(node.agent.log).toContain(`allow=${NODES_SUBNET},${ALLOWED_SUBNET}`);
  });

  test("every node's /hosts lists all three, found through one name with three addresses", async () => {
    await untilHostsAre(nodes, nodes, "every /hosts to list the three nodes");
    expect(await hostsFrom(nodes[1] as Node, "?pump=1")).toBe(lineOf(nodes).replaceAll(",lzo", ",lzo,cpp"));
    const json = JSON.parse(await hostsFrom(nodes[2] as Node, "?format=json"));
    expect(json.line).toBe(lineOf(nodes));
    expect(json.hosts.map((h: { address: string; self: boolean }) => [h.address, h.self])).toEqual(
      nodes.map((node, i) => [`${node.host.address}:3632`, i === 2]),
    );
    const status = JSON.parse((await get(allowed, statsUrl(nodes[0] as Node, "/status"))).body);
    expect(status).toMatchObject({
      address: `${nodes[0]?.host.address}:3632`,
      slots: JOBS,
      running: 0,
      draining: false,
      protocols: [1, 2, 3],
    });
    expect(status.compilers).toContainEqual({ name: GCC, machine: "powerpc-linux-gnu", version: expect.any(String) });
  });

  test("a build with exactly the /hosts line uses every node; objects equal a local build", async () => {
    const dir = project();
    const results = await build(allowed, dir, {}, await hostsFrom(nodes[0] as Node));
    expect(results.map((r) => r.exitCode)).toEqual(Array(UNITS).fill(0));
    for (const result of results) expect(result.log).toContain("completed ok");
    for (const node of nodes) expect(compiledFrom(node, allowed)).toBeGreaterThan(0);
    await expectObjectsEqualLocal(dir);
  });

  test("a client outside --stats-allow gets 403 from /status and /hosts; the probes answer anyone", async () => {
    for (const path of ["/status", "/hosts", "/hosts?format=json"])
      expect((await get(outsider, statsUrl(nodes[0] as Node, path))).status).toBe(403);
    expect(await get(outsider, statsUrl(nodes[0] as Node, "/readyz"))).toEqual({ status: 200, body: "ready" });
  });

  test("a client outside the allow list is refused by every node, and fails fast", async () => {
    const dir = project();
    for (const node of nodes) {
      const result = await distcc([GCC, "-Iinclude", "-c", "unit0.c", "-o", "unit0.o"], {
        hosts: `${node.host.address},lzo`,
        cwd: dir,
        prefix: TestNetwork.on(outsider),
      });
      expect(result.exitCode).not.toBe(0);
      expect(result.exitCode).not.toBe(124);
      expect(result.log).toContain("failed to distribute");
      await until(() => node.agent.log.includes(`connection from client '${outsider.address}:`), "the refusal in the node's log");
      expect(node.agent.log).toMatch(
        new RegExp(`connection from client '${outsider.address.replace(/\./g, "\\.")}:\\d+' denied by access list`),
      );
    }
    const all = await distcc([GCC, "-Iinclude", "-c", "unit0.c", "-o", "unit0.o"], {
      hosts: nodes.map((node) => `${node.host.address},lzo`).join(" "),
      cwd: dir,
      prefix: TestNetwork.on(outsider),
    });
    expect(all.exitCode).not.toBe(0);
    expect(all.log).toContain("failed to distribute and fallbacks are disabled");
    for (const node of nodes) expect(compiledFrom(node, outsider)).toBe(0);
  });

  test("a node killed mid-build: the build completes and is correct; the restarted agent cleans up and takes jobs", async () => {
    const victim = nodes[0] as Node;
    const dir = project();
    const before = victim.agent.log.length;
    // Fallback allowed: the client retries elsewhere or compiles locally, as users run it.
    const building = build(allowed, dir, { DISTCC_FALLBACK: "1", DISTCC_SKIP_LOCAL_RETRY: "" });
    await until(() => victim.agent.log.slice(before).includes("running job from"), "a job on the victim");
    victim.agent.proc.kill("SIGKILL");
    expect(await victim.agent.proc.exited).not.toBe(0);
    // Two failed polls, one interval apart: gone from every /hosts within two intervals.
    await untilHostsAre(nodes.slice(1), nodes.slice(1), "the killed node to leave /hosts", 2 * PEERS_INTERVAL * 1000 + 1500);
    const results = await building;
    expect(results.map((r) => r.exitCode)).toEqual(Array(UNITS).fill(0));
    await expectObjectsEqualLocal(dir);
    startAgent(victim);
    await until(() => victim.agent.log.includes("listening on"), "the restarted agent");
    await untilHostsAre(nodes, nodes, "the restarted node back in every /hosts");
    await until(() => readdirSync(victim.tmpDir).length === 0, "the dead agent's job dirs to be gone");
    const again = await distcc([GCC, "-O2", "-Iinclude", "-c", "unit1.c", "-o", "again.o"], {
      hosts: `${victim.host.address},lzo`,
      cwd: dir,
      prefix: TestNetwork.on(allowed),
    });
    expect(again.exitCode).toBe(0);
    expect(compiledFrom(victim, allowed)).toBe(1);
  });

  test("a node drained with SIGTERM mid-build finishes its in-flight jobs and exits 0", async () => {
    const drained = nodes[2] as Node;
    const dir = project();
    const before = drained.agent.log.length;
    const building = build(allowed, dir, { DISTCC_FALLBACK: "1", DISTCC_SKIP_LOCAL_RETRY: "" });
    await until(() => drained.agent.log.slice(before).includes("running job from"), "a job on the drained node");
    drained.agent.proc.kill("SIGTERM");
    expect(await drained.agent.proc.exited).toBe(0);
    const results = await building;
    expect(results.map((r) => r.exitCode)).toEqual(Array(UNITS).fill(0));
    await expectObjectsEqualLocal(dir);
    const drainLog = drained.agent.log.slice(drained.agent.log.indexOf("(SIGTERM)"));
    expect(drainLog).toMatch(/^\(SIGTERM\): [1-9]\d* connection\(s\) in flight/);
    expect(drainLog).toContain("COMPILE_OK");
    expect(drainLog).not.toContain("killing their compilers");
    expect(readdirSync(drained.tmpDir)).toEqual([]);
    startAgent(drained);
    await until(() => drained.agent.log.includes("listening on"), "the drained node to come back");
  });
  test("a draining node leaves every /hosts at once, and still takes jobs for --drain-delay", async () => {
    const [first, draining, last] = nodes as [Node, Node, Node];
    const agent = draining.agent;
    agent.proc.kill("SIGTERM");
    const dir = project();
    const during = distcc([GCC, "-O2", "-Iinclude", "-c", "unit3.c", "-o", "unit3.o"], {
      hosts: `${draining.host.address},lzo`,
      cwd: dir,
      prefix: TestNetwork.on(allowed),
    });
    // While it still drains: gone from /hosts well inside the delay, which it then outlives.
    await untilHostsAre([first, last], [first, last], "the draining node to leave /hosts", (DRAIN_DELAY - 0.5) * 1000);
    expect(agent.proc.exitCode).toBeNull();
    expect(await get(allowed, statsUrl(draining, "/readyz"))).toEqual({ status: 503, body: "draining" });
    expect(JSON.parse((await get(allowed, statsUrl(draining, "/status"))).body).draining).toBe(true);
    expect((await during).exitCode).toBe(0);
    expect(await agent.proc.exited).toBe(0);
    expect(compiledFrom(draining, allowed)).toBeGreaterThan(0);
    startAgent(draining);
    await untilHostsAre(nodes, nodes, "the restarted node back in every /hosts");
  });

  test("a rolling restart of every node during a build of zlib: no local fallback, no backoff", async () => {
    const dir = zlibProject();
    const hosts = await hostsFrom(nodes[0] as Node);
    expect(hosts).toBe(lineOf(nodes));
    const distccDir = sharedTempDir("cluster-rolling-distcc-dir-");
    const logFile = join(sharedTempDir("cluster-rolling-log-"), "client.log");
    let restarting = true;
    const make = async (...targets: string[]) => {
      const proc = Bun.spawn([...TestNetwork.on(allowed), "timeout", "120", "make", "-j6", `CC=distcc ${GCC}`, ...targets], {
        cwd: dir,
        env: {
          ...process.env,
          PATH: `${toolchain().bin}:${process.env.PATH}`,
          DISTCC_HOSTS: hosts,
          DISTCC_DIR: distccDir,
          DISTCC_LOG: logFile,
        },
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0) throw new Error(`make ${targets.join(" ")} failed (${code}):\n${stderr}`);
    };
    // Rounds of the whole library while the restart goes on, and one more on the new agents.
    const building = (async () => {
      let rounds = 0;
      let after = 0;
      do {
        const during = restarting;
        await make("clean");
        await make("libz.a");
        rounds++;
        if (!during) after++;
      } while (after < 1 && rounds < 20);
      return rounds;
    })();
    for (const node of nodes) {
      const old = node.agent;
      await until(() => old.log.includes("running job from"), "a job on the node before its restart", 60_000);
      // As the DaemonSet's surge pod: the new agent shares the address through SO_REUSEPORT.
      const next = spawnAgent(node);
      await until(() => next.log.includes("listening on") || next.proc.exitCode !== null, "the new agent to listen");
      expect(next.proc.exitCode).toBeNull();
      old.proc.kill("SIGTERM");
      expect(await old.proc.exited).toBe(0);
      node.agent = next;
    }
    restarting = false;
    expect(await building).toBeGreaterThan(1);
    const log = readFileSync(logFile, "utf8");
    expect(log).not.toContain("running locally instead");
    expect(log).not.toContain("failed to distribute");
    const backoffs = readdirSync(distccDir, { recursive: true }).filter((name) => String(name).split("/").pop()?.startsWith("backoff"));
    expect(backoffs).toEqual([]);
    for (const node of nodes) expect(compiledFrom(node, allowed)).toBeGreaterThan(0);
  });

  test("--zeroconf: Debian's client with +zeroconf finds the agent and compiles through it; a surge agent beside an avahi-daemon keeps it listed; gone within 5 s of the last SIGTERM", async () => {
    const node: Node = { host: network.addHost("z1", "10.213.0.21"), tmpDir: sharedTempDir("cluster-z1-"), agent: undefined as never };
    const client = network.addHost("zc", "10.213.1.31");
    let clientAvahi: Awaited<ReturnType<typeof startAvahi>> | undefined;
    let nodeAvahi: Awaited<ReturnType<typeof startAvahi>> | undefined;
    let surge: Agent | undefined;
    // The client browses the subtype of its own `cc`: here the PowerPC compiler.
    const ccDir = sharedTempDir("cluster-cc-");
    symlinkSync("/usr/bin/powerpc-linux-gnu-gcc", join(ccDir, "cc"));
    const distccDir = sharedTempDir("cluster-zeroconf-distcc-dir-");
    const hostsFile = join(distccDir, "zeroconf/hosts");
    const entry = `${node.host.address}:3632/${JOBS}`;

    /** How many services in the client's zeroconf hosts file are this node's agent. */
    const listed = () => {
      try {
        return readFileSync(hostsFile, "utf8")
          .split("\n")
          .filter((line) => line === entry).length;
      } catch {
        return 0;
      }
    };
    try {
      // First without an avahi-daemon on the node: the agent is its own mDNS responder.
      node.agent = spawnAgent(node, ["--zeroconf"]);
      await until(() => node.agent.log.includes("published distcc@"), "the agent to publish itself");
      // The client's avahi-daemon starts after the announcement: it finds the agent by asking.
      clientAvahi = await startAvahi(client, `dcc-client-${process.pid}`);
      const env = {
        DISTCC_HOSTS: "+zeroconf",
        DBUS_SYSTEM_BUS_ADDRESS: clientAvahi.busAddress,
        PATH: `${ccDir}:${toolchain().bin}:${process.env.PATH}`,
      };
      const dir = project();
      const compile = (out: string) =>
        distcc([GCC, "-O2", "-Iinclude", "-c", "unit5.c", "-o", out], {
          hosts: "+zeroconf",
          cwd: dir,
          prefix: TestNetwork.on(client),
          distccDir,
          env,
        });
      // The first client starts the zeroconf daemon, which keeps $DISTCC_DIR/zeroconf/hosts.
      await compile("first.o");
      await until(() => listed() === 1, "the agent in the client's zeroconf hosts file");
      const result = await compile("unit5.o");
      expect(result.exitCode).toBe(0);
      expect(result.log).toContain(node.host.address);
      expect(compiledFrom(node, client)).toBeGreaterThan(0);
      // A rolling restart beside the node's own avahi-daemon: the surge agent shares port 5353
      // with it and the old agent, and takes the next name.
      nodeAvahi = await startAvahi(node.host, `dcc-node-${process.pid}`);
      surge = spawnAgent(node, ["--zeroconf"]);
      await until(() => surge?.log.includes("published distcc@") ?? false, "the surge agent to publish itself");
      expect(surge.log).toMatch(/published distcc@\S+ #2 /);
      await until(() => listed() === 2, "both agents in the zeroconf hosts file");
      node.agent.proc.kill("SIGTERM");
      await until(() => listed() === 1, "the old agent to leave the zeroconf hosts file", 5000);
      expect(await node.agent.proc.exited).toBe(0);
      expect(node.agent.log).toContain("withdrew distcc@");
      surge.proc.kill("SIGTERM");
      await until(() => listed() === 0, "the last agent to leave the zeroconf hosts file", 5000);
      expect(await surge.proc.exited).toBe(0);
    } finally {
      node.agent?.proc.kill("SIGKILL");
      surge?.proc.kill("SIGKILL");
      stopZeroconfDaemon(join(distccDir, "zeroconf/lock"));
      await nodeAvahi?.stop();
      await clientAvahi?.stop();
    }
  });
});
