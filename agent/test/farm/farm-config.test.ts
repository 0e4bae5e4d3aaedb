import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import type { ConfigError } from "../../src/errors.ts";

const env = { PATH: "/usr/bin:/bin" };
const farm = async (...flags: string[]) => (await parseConfig(["--daemon", "--stats", ...flags], env)).farm;

describe("the farm's flags", () => {
  test("defaults: no peers, polls every 5 s, no drain delay, keepalive after 60 s", async () => {
    expect(await farm()).toEqual({
      peers: [],
      peersIntervalMs: 5000,
      advertise: undefined,
      zeroconf: false,
      drainDelayMs: 0,
      reusePort: false,
      keepaliveSeconds: 60,
    });
  });

  test("--peers: comma-separated and repeatable, each HOST[:STATS_PORT]", async () => {
    const config = await farm("--peers", "distcc-headless.build.svc:3633,10.0.0.2", "--peers", "[fd00::3]:4000", "--peers-interval", "0.5");
    expect(config.peers).toEqual([
      { host: "distcc-headless.build.svc", port: 3633 },
      { host: "10.0.0.2", port: undefined },
      { host: "fd00::3", port: 4000 },
    ]);
    expect(config.peersIntervalMs).toBe(500);
  });

  test.each([
    ["[10.0.0.1]:30362", { host: "10.0.0.1", port: 30362 }],
    ["fd00::1", { host: "fd00::1", port: undefined }],
    ["[fd00::1]:3632", { host: "fd00::1", port: 3632 }],
    ["node-7.example:30362", { host: "node-7.example", port: 30362 }],
  ])("--advertise %s", async (value, advertise) => {
    expect((await farm("--advertise", value)).advertise).toEqual(advertise);
  });

  test("--zeroconf, --drain-delay, --reuse-port and --keepalive", async () => {
    expect(await farm("--zeroconf", "--drain-delay", "5", "--reuse-port", "--keepalive", "0")).toMatchObject({
      zeroconf: true,
      drainDelayMs: 5000,
      reusePort: true,
      keepaliveSeconds: 0,
    });
  });

  test.each([
    [["--peers", "bad name!"], "E_CONFIG_HOST"],
    [["--advertise", "10.0.0.1:70000"], "E_CONFIG_PORT"],
    [["--advertise", "[10.0.0.1"], "E_CONFIG_HOST"],
    [["--peers-interval", "0"], "E_CONFIG_RANGE"],
    [["--drain-delay", "-1"], "E_CONFIG_RANGE"],
  ])("%j is refused at start-up (%s)", async (flags, code) => {
    const error = (await farm(...flags).catch((e) => e)) as ConfigError;
    expect(error.code).toBe(code);
  });

  test("--peers needs --stats, where peers are polled and /hosts is served", async () => {
    const error = (await parseConfig(["--daemon", "--peers", "10.0.0.2"], env).catch((e) => e)) as ConfigError;
    expect([error.code, error.message]).toEqual(["E_CONFIG_FLAGS", expect.stringContaining("--peers needs --stats")]);
  });
});
