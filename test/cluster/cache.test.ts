/**
 * Two nodes share one Redis, each in its own network namespace (and a third for Redis): a
 * build compiled on the first node is answered on the second from Redis, byte for byte. The
 * agents run the chart's DaemonSet arguments and get the URL the way the chart gives it, from
 * the environment. Runs as root (CI does); elsewhere it says why it skips.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_BINARY, sharedTempDir } from "../../agent/test/helpers/agent.ts";
import { distcc, run } from "../../agent/test/helpers/distcc.ts";
import { GCC, toolchain } from "../../agent/test/helpers/toolchain.ts";
import { until } from "../../agent/test/helpers/wait.ts";
import { find, render } from "../helpers/helm.ts";
import { canCreateNamespaces, type Host, TestNetwork } from "../helpers/netns.ts";

const SUPPORTED = canCreateNamespaces();
if (!SUPPORTED) console.error("cluster cache tests skipped: creating network namespaces needs root and iproute2 (CI runs them)");

const CLIENTS = "10.213.1.0/24";
const UNITS = 6;
const PASSWORD = "cluster-cache-pass";

interface Node {
  readonly host: Host;
  proc: ReturnType<typeof Bun.spawn>;
  log: string;
}

let network: TestNetwork;
let redis: ReturnType<typeof Bun.spawn>;
let nodes: Node[];
let client: Host;
let redisHost: Host;

async function entriesInRedis(): Promise<number> {
  const cli = ["redis-cli", "-h", redisHost.address, "-a", PASSWORD, "--no-auth-warning", "dbsize"];
  const result = await run([...TestNetwork.on(redisHost), ...cli], tmpdir());
  return Number(result.stdout.trim());
}

function project(): string {
  const dir = sharedTempDir("cluster-cache-project-");
  for (let i = 0; i < UNITS; i++) {
    writeFileSync(join(dir, `unit${i}.c`), `#include <string.h>\nint unit${i}(const char *s) { return (int)strlen(s) * ${i + 3}; }\n`);
  }
  return dir;
}

async function build(node: Node, dir: string): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < UNITS; i++) {
    const since = node.log.length;
    const result = await distcc([GCC, "-O2", "-c", `unit${i}.c`, "-o", `unit${i}.o`], {
      hosts: `${node.host.address},lzo`,
      cwd: dir,
      prefix: TestNetwork.on(client),
    });
    expect(result.exitCode).toBe(0);
    await until(() => /dcc_job_summary.* cache=/.test(node.log.slice(since)), "the job's log line");
    outcomes.push(node.log.slice(since).match(/dcc_job_summary.* cache=([a-z-]+)/)?.[1] as string);
  }
  return outcomes;
}

describe.skipIf(!SUPPORTED)("two nodes and one Redis", () => {
  beforeAll(async () => {
    network = new TestNetwork();
    redisHost = network.addHost("rd", "10.213.0.40");
    const redisDir = mkdtempSync(join(tmpdir(), "cluster-redis-"));
    redis = Bun.spawn(
      [
        ...TestNetwork.on(redisHost),
        "redis-server",
        "--bind",
        redisHost.address,
        "--port",
        "6379",
        "--dir",
        redisDir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--requirepass",
        PASSWORD,
      ],
      { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
    );
    const url = `redis://:${PASSWORD}@${redisHost.address}:6379`;
    const objects = render(4, { distccd: { allow: [CLIENTS], logLevel: "info" }, cache: { redis: { url } } });
    const container = find(objects, "DaemonSet").spec.template.spec.containers[0];
    const args = container.args as string[];
    expect(JSON.stringify(args)).not.toContain(PASSWORD);
    const variable = (container.env as { name: string }[]).find((entry) => entry.name === "DISTCCD_CACHE_REDIS")?.name as string;
    expect(variable).toBe("DISTCCD_CACHE_REDIS");
    const whitelistDir = sharedTempDir("cluster-cache-whitelist-");
    const whitelist = join(whitelistDir, "whitelist");
    writeFileSync(whitelist, find(objects, "ConfigMap").data?.whitelist ?? "", { mode: 0o644 });
    nodes = ["c1n", "c2n"].map((name, i) => {
      const host = network.addHost(name, `10.213.0.${51 + i}`);
      const cacheDir = join(sharedTempDir(`cluster-cache-${name}-`), "cache");
      const tmp = sharedTempDir(`cluster-cache-tmp-${name}-`);
      mkdirSync(tmp, { recursive: true });
      // $(NODE_IP) expanded as the kubelet does; a temp dir stands in for the cache volume.
      const nodeArgs = args.map((arg, j) => (args[j - 1] === "--cache-dir" ? cacheDir : arg.replace("$(NODE_IP)", host.address)));
      const proc = Bun.spawn([...TestNetwork.on(host), AGENT_BINARY, ...nodeArgs, "--whitelist", whitelist], {
        env: { ...process.env, PATH: `${toolchain().bin}:${process.env.PATH}`, TMPDIR: tmp, [variable]: url },
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      });
      const node: Node = { host, proc, log: "" };
      void (async () => {
        for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) node.log += new TextDecoder().decode(chunk);
      })();
      return node;
    });
    client = network.addHost("cc", "10.213.1.31");
    await until(() => nodes.every((node) => node.log.includes("listening on")), "both agents to listen");
  });

  afterAll(async () => {
    for (const proc of [...(nodes ?? []).map((node) => node.proc), redis]) {
      proc?.kill("SIGKILL");
      await proc?.exited;
    }
    network?.destroy();
  });

  test("a build on the first node is a Redis hit on the second, with the same objects as a local build", async () => {
    const [first, second] = nodes as [Node, Node];
    const dir = project();
    expect(await build(first, dir)).toEqual(Array(UNITS).fill("miss"));
    // Entries go to Redis after each reply: wait until all of them are there.
    await until(async () => (await entriesInRedis()) === UNITS, "the first build's entries in Redis");
    expect(await build(second, dir)).toEqual(Array(UNITS).fill("hit-redis"));
    for (let i = 0; i < UNITS; i++) {
      expect((await run([GCC, "-O2", "-c", `unit${i}.c`, "-o", `unit${i}.local.o`], dir)).exitCode).toBe(0);
      expect(readFileSync(join(dir, `unit${i}.o`))).toEqual(readFileSync(join(dir, `unit${i}.local.o`)));
    }
    expect(await build(second, dir)).toEqual(Array(UNITS).fill("hit-disk"));
    for (const node of nodes) expect(node.log).not.toContain(PASSWORD);
  });
});
