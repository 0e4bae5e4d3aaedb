/**
 * Several nodes on one machine: three "node" and two "client" network namespaces on a private
 * bridge, an agent in each node started with exactly the arguments the chart renders for the
 * DaemonSet (allow list: the first client's subnet), and the real distcc client building a
 * multi-file PowerPC project across them. Runs as root (CI does); elsewhere it says why it skips.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BINARY, sharedTempDir } from "../../agent/test/helpers/agent.ts";
import { type ClientRun, distcc, run } from "../../agent/test/helpers/distcc.ts";
import { GCC, GXX, toolchain } from "../../agent/test/helpers/toolchain.ts";
import { until } from "../../agent/test/helpers/wait.ts";
import { find, render } from "../helpers/helm.ts";
import { canCreateNamespaces, type Host, TestNetwork } from "../helpers/netns.ts";

const SUPPORTED = canCreateNamespaces();
if (!SUPPORTED) console.error("cluster tests skipped: creating network namespaces needs root and iproute2 (CI runs them)");

const ALLOWED_SUBNET = "10.213.1.0/24";
const UNITS = 18;

interface Node {
  readonly host: Host;
  readonly tmpDir: string;
  readonly cacheDir: string;
  /** Searched for compilers before the toolchain (a slower wrapper for the drained node). */
  readonly compilerPath?: string;
  proc: ReturnType<typeof Bun.spawn>;
  log: string;
}

let network: TestNetwork;
let nodes: Node[];
let allowed: Host;
let outsider: Host;
let agentArgs: string[];
let whitelist: string;

/** The DaemonSet's container args as the chart renders them, with this test's allow list. */
function chartArgs(): string[] {
  const objects = render(4, { distccd: { allow: [ALLOWED_SUBNET], logLevel: "info" } });
  const dir = sharedTempDir("cluster-whitelist-");
  whitelist = join(dir, "whitelist");
  writeFileSync(whitelist, find(objects, "ConfigMap").data?.whitelist ?? "", { mode: 0o644 });
  return find(objects, "DaemonSet").spec.template.spec.containers[0].args as string[];
}

function startAgent(node: Node): void {
  node.log = "";
  // The pod mounts a volume at the cache dir; each node gets a temp dir in its place.
  const args = agentArgs.map((arg, i) => (agentArgs[i - 1] === "--cache-dir" ? join(node.cacheDir, "cache") : arg));
  node.proc = Bun.spawn([...TestNetwork.on(node.host), AGENT_BINARY, ...args, "--whitelist", whitelist], {
    env: { ...process.env, PATH: [node.compilerPath, toolchain().bin, process.env.PATH].filter(Boolean).join(":"), TMPDIR: node.tmpDir },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const stream = node.proc.stderr as ReadableStream<Uint8Array>;
  void (async () => {
    for await (const chunk of stream) node.log += new TextDecoder().decode(chunk);
  })();
}

let projects = 0;

/** A fresh tree each time: its own text, so no build is answered by the agents' compile cache. */
function project(): string {
  const dir = sharedTempDir("cluster-project-");
  const build = ++projects;
  mkdirSync(join(dir, "include"));
  writeFileSync(join(dir, "include/shared.h"), "#include <stdio.h>\n#include <string.h>\nstruct pair { int a, b; };\n");
  for (let i = 0; i < UNITS; i++) {
    writeFileSync(
      join(dir, `unit${i}.c`),
      `#include "shared.h"\n#include <stdlib.h>\nstatic const int build = ${build};\nint unit${i}(struct pair *p, char *buf) {\n  snprintf(buf, 64, "%d-%d", p->a * ${i + 1}, p->b);\n  return (int)strlen(buf) + abs(p->a - ${i});\n}\n`,
    );
  }
  return dir;
}

/**
 * The build: every unit through distcc from `client`, six at a time, sharing one DISTCC_DIR as
 * under `make -j`. One slot per node (`/1`): the clients fill hosts in list order, so with six
 * jobs at once every node gets work.
 */
async function build(client: Host, dir: string, env: Record<string, string> = {}): Promise<ClientRun[]> {
  const hosts = nodes.map((node) => `${node.host.address}/1,lzo`).join(" ");
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

const compiledFrom = (node: Node, client: Host) =>
  node.log.match(new RegExp(`client: ${client.address.replace(/\./g, "\\.")}:\\d+ COMPILE_OK`, "g"))?.length ?? 0;

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
      cacheDir: sharedTempDir(`cluster-cache-${name}-`),
      compilerPath: name === "n3" ? slow : undefined,
      proc: undefined as never,
      log: "",
    }));
    allowed = network.addHost("c1", "10.213.1.21");
    outsider = network.addHost("c2", "10.213.2.22");
    for (const node of nodes) startAgent(node);
    await until(() => nodes.every((node) => node.log.includes("listening on")), "every agent to listen");
  });

  afterAll(async () => {
    for (const node of nodes ?? []) {
      node.proc?.kill("SIGKILL");
      await node.proc?.exited;
    }
    network?.destroy();
  });

  test("the agents run the chart's DaemonSet arguments", () => {
    expect(agentArgs.slice(0, 3)).toEqual(["--daemon", "--no-fork", "--log-stderr"]);
    expect(agentArgs.join(" ")).toContain(`--allow ${ALLOWED_SUBNET}`);
    for (const node of nodes) expect(node.log).toContain(`allow=${ALLOWED_SUBNET}`);
  });

  test("the allowed client builds across all three nodes; objects equal a local build", async () => {
    const dir = project();
    const results = await build(allowed, dir);
    expect(results.map((r) => r.exitCode)).toEqual(Array(UNITS).fill(0));
    for (const result of results) expect(result.log).toContain("completed ok");
    for (const node of nodes) expect(compiledFrom(node, allowed)).toBeGreaterThan(0);
    await expectObjectsEqualLocal(dir);
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
      await until(() => node.log.includes(`connection from client '${outsider.address}:`), "the refusal in the node's log");
      expect(node.log).toMatch(new RegExp(`connection from client '${outsider.address.replace(/\./g, "\\.")}:\\d+' denied by access list`));
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
    const before = victim.log.length;
    // Fallback allowed: the client retries elsewhere or compiles locally, as users run it.
    const building = build(allowed, dir, { DISTCC_FALLBACK: "1", DISTCC_SKIP_LOCAL_RETRY: "" });
    await until(() => victim.log.slice(before).includes("running job from"), "a job on the victim");
    victim.proc.kill("SIGKILL");
    expect(await victim.proc.exited).not.toBe(0);
    const results = await building;
    expect(results.map((r) => r.exitCode)).toEqual(Array(UNITS).fill(0));
    await expectObjectsEqualLocal(dir);
    startAgent(victim);
    await until(() => victim.log.includes("listening on"), "the restarted agent");
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
    const before = drained.log.length;
    const building = build(allowed, dir, { DISTCC_FALLBACK: "1", DISTCC_SKIP_LOCAL_RETRY: "" });
    await until(() => drained.log.slice(before).includes("running job from"), "a job on the drained node");
    drained.proc.kill("SIGTERM");
    expect(await drained.proc.exited).toBe(0);
    const results = await building;
    expect(results.map((r) => r.exitCode)).toEqual(Array(UNITS).fill(0));
    await expectObjectsEqualLocal(dir);
    const drainLog = drained.log.slice(drained.log.indexOf("terminating (SIGTERM)"));
    expect(drainLog).toMatch(/terminating \(SIGTERM\): [1-9]\d* connection\(s\) in flight/);
    expect(drainLog).toContain("COMPILE_OK");
    expect(drainLog).not.toContain("killing their compilers");
    expect(readdirSync(drained.tmpDir)).toEqual([]);
    startAgent(drained);
    await until(() => drained.log.includes("listening on"), "the drained node to come back");
  });
});
