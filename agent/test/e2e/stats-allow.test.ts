/**
 * `--stats-allow`: who may read the stats port (the C text, /metrics and any other page), apart
 * from the compile port's `--allow`, so Prometheus can scrape agents whose compile port it may
 * not use. /healthz and /readyz stay open to anyone. The agent listens on `::`, so a client on
 * 127.0.0.1 (IPv4-mapped) and one on ::1 are two different addresses to one agent.
 */
import { describe, expect, test } from "bun:test";
import { AGENT_BINARY, freePort, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { run } from "../helpers/distcc.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC } from "../helpers/toolchain.ts";

const good = compileRequest(2, [GCC, "-c", "x.c", "-o", "x.o"], "int x = 1;\n");

async function status(host: string, port: number, path: string): Promise<number> {
  return (await fetch(`http://${host}:${port}${path}`)).status;
}

async function dualStackAgent(allow: string[], statsAllow: string[]) {
  const statsPort = freePort("::1");
  const agent = await startAgent({
    listen: "::",
    allow,
    args: ["--stats", "--stats-port", String(statsPort), ...statsAllow.flatMap((rule) => ["--stats-allow", rule])],
  });
  return Object.assign(agent, { statsPort });
}

describe("--stats-allow", () => {
  test("admits a scraper the compile port refuses, and refuses a compile client to the pages", async () => {
    await using agent = await dualStackAgent(["::1"], ["127.0.0.1"]);
    const pages = ["/", "/metrics", "/any/other/page"];
    expect(await Promise.all(pages.map((path) => status("127.0.0.1", agent.statsPort, path)))).toEqual([200, 200, 200]);
    expect(await Promise.all(pages.map((path) => status("[::1]", agent.statsPort, path)))).toEqual([403, 403, 403]);
    expect(await (await fetch(`http://[::1]:${agent.statsPort}/metrics`)).text()).toBe("access denied by --stats-allow\n");
    // The compile port still follows --allow alone.
    expect(parseReply(await exchange(agent.port, good, { hostname: "::1" })).status).toBe(0);
    expect((await exchange(agent.port, good, { hostname: "127.0.0.1" })).length).toBe(0);
    // An IPv4 client of the `::` listener is logged as the IPv4 address it connected from.
    await agent.waitForLog(/connection from client '127\.0\.0\.1:\d+' denied by access list/);
  });

  test("/healthz and /readyz answer clients outside both lists", async () => {
    await using agent = await dualStackAgent(["10.0.0.0/8"], ["10.0.0.0/8"]);
    expect([await status("127.0.0.1", agent.statsPort, "/healthz"), await status("[::1]", agent.statsPort, "/readyz")]).toEqual([200, 200]);
    expect([await status("127.0.0.1", agent.statsPort, "/metrics"), await status("[::1]", agent.statsPort, "/")]).toEqual([403, 403]);
  });

  test("is repeatable, and without it the --allow list guards the pages", async () => {
    await using repeated = await dualStackAgent(["10.0.0.0/8"], ["192.0.2.0/24", "::1", "127.0.0.0/8"]);
    expect([await status("127.0.0.1", repeated.statsPort, "/metrics"), await status("[::1]", repeated.statsPort, "/metrics")]).toEqual([
      200, 200,
    ]);
    await using defaulted = await dualStackAgent(["127.0.0.1"], []);
    expect([await status("127.0.0.1", defaulted.statsPort, "/metrics"), await status("[::1]", defaulted.statsPort, "/metrics")]).toEqual([
      200, 403,
    ]);
  });

  test("a bad range is a bad option (101), named by its flag", async () => {
    const result = await run(
      [AGENT_BINARY, "--daemon", "--allow", "127.0.0.1", "--stats-allow", "10.0.0.0/40"],
      sharedTempDir("stats-allow-"),
    );
    expect(result).toMatchObject({ exitCode: 101, stderr: "distccd: ERROR: --stats-allow 10.0.0.0/40: not an IP address or CIDR range\n" });
  });
});
