import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { parseConfig } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";

const env = { PATH: "/usr/bin:/bin", TMPDIR: "/var/tmp/" };

describe("parseConfig", () => {
  test("the C server's defaults", async () => {
    const config = await parseConfig(["--daemon"], env);
    expect({
      mode: config.mode,
      detach: config.detach,
      port: config.port,
      statsPort: config.statsPort,
      jobs: config.jobs,
      nice: config.nice,
      logLevel: config.logLevel,
      listen: config.listen,
      tmpDir: config.tmpDir,
      allowDefaulted: config.allowDefaulted,
    }).toEqual({
      mode: "daemon",
      detach: true,
      port: 3632,
      statsPort: 3633,
      jobs: availableParallelism() + 2,
      nice: 5,
      logLevel: "notice",
      listen: "0.0.0.0",
      tmpDir: "/var/tmp",
      allowDefaulted: true,
    });
  });

  test("no --allow really means private ranges only", async () => {
    const config = await parseConfig(["--daemon"], env);
    expect([config.allow.allows("192.168.1.2"), config.allow.allows("8.8.8.8")]).toEqual([true, false]);
    expect(config.warnings.join("\n")).toContain("No --allow");
  });

  test("the container's command line", async () => {
    const config = await parseConfig(["--daemon", "--no-fork", "--allow", "0.0.0.0/0", "--log-stderr"], env);
    expect([config.detach, config.logStderr, config.allow.rules]).toEqual([false, true, ["0.0.0.0/0"]]);
  });

  test.each([
    [["--no-detach"], false],
    [["--no-fork"], false],
    [["--wizard"], false],
    [[], true],
  ])("%j detaches: %p", async (flags, detach) => {
    expect((await parseConfig(["--daemon", ...flags], env)).detach).toBe(detach);
  });

  test("short flags, repeated --allow and --verbose", async () => {
    const config = await parseConfig(
      ["-p", "4000", "-j", "3", "-N", "0", "-a", "10.0.0.0/8", "-a", "::1", "--verbose", "-P", "/run/d.pid"],
      env,
    );
    expect([config.port, config.jobs, config.nice, config.allow.rules, config.logLevel, config.pidFile]).toEqual([
      4000,
      3,
      0,
      ["10.0.0.0/8", "::1/128"],
      "debug",
      "/run/d.pid",
    ]);
  });

  test("a repeated flag takes its last value; --allow accumulates", async () => {
    const config = await parseConfig(["-p", "4000", "--port", "4001", "--allow", "10.0.0.1", "--allow", "10.0.0.2"], env);
    expect([config.port, config.allow.rules]).toEqual([4001, ["10.0.0.1/32", "10.0.0.2/32"]]);
  });

  test("--allow-private adds the private ranges to --allow", async () => {
    const config = await parseConfig(["--allow", "203.0.113.0/24", "--allow-private"], env);
    expect([config.allow.allows("203.0.113.7"), config.allow.allows("10.0.0.1")]).toEqual([true, true]);
  });

  test("DISTCCD_PATH replaces PATH for compilers", async () => {
    expect((await parseConfig([], { ...env, DISTCCD_PATH: "/opt/cross/bin" })).compilerPath).toBe("/opt/cross/bin");
  });

  test.each([
    [["--bogus-option"], "E_CONFIG_FLAGS"],
    [["--port", "0"], "E_CONFIG_PORT"],
    [["--port", "65536"], "E_CONFIG_PORT"],
    [["--port", "x"], "E_CONFIG_PORT"],
    [["--stats-port", "70000"], "E_CONFIG_PORT"],
    [["--allow", "10.0.0.0/33"], "E_CONFIG_ALLOW"],
    [["--allow"], "E_CONFIG_FLAGS"],
    [["--jobs", "0"], "E_CONFIG_RANGE"],
    [["--log-level", "loud"], "E_CONFIG_FLAGS"],
    [["--daemon", "--inetd"], "E_CONFIG_FLAGS"],
    [["--job-lifetime", "-1"], "E_CONFIG_RANGE"],
    [["--request-timeout", "0"], "E_CONFIG_RANGE"],
    [["--min-free-space", "lots"], "E_CONFIG_RANGE"],
    [["--min-free-space", "5T"], "E_CONFIG_RANGE"],
  ])("%j is a ConfigError", async (argv, code) => {
    let caught: unknown;
    try {
      await parseConfig(argv, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe(code);
  });

  test("--request-timeout defaults to the C client's 300 s I/O timeout", async () => {
    expect((await parseConfig([], env)).limits.requestTimeoutMs).toBe(300_000);
    expect((await parseConfig(["--request-timeout", "20"], env)).limits.requestTimeoutMs).toBe(20_000);
  });

  test.each([
    [[], 256 * 2 ** 20],
    // Twice the largest body limit, when that is below 256 MiB.
    [["--max-source-bytes", String(16 << 20), "--max-pump-bytes", String(32 << 20)], 64 * 2 ** 20],
    [["--min-free-space", "512k"], 512 * 2 ** 10],
    [["--min-free-space", "1.5M"], 1.5 * 2 ** 20],
    [["--min-free-space", "2G"], 2 * 2 ** 30],
    [["--min-free-space", "3GiB"], 3 * 2 ** 30],
    [["--min-free-space", "1000"], 1000],
    [["--min-free-space", "0"], 0],
  ])("%j: --min-free-space is %d bytes", async (argv, bytes) => {
    expect((await parseConfig(argv, env)).minFreeSpaceBytes).toBe(bytes);
  });

  test("stdin as a socket without --daemon means inetd, as in the C server", async () => {
    expect((await parseConfig([], env, true)).mode).toBe("inetd");
    expect((await parseConfig(["--daemon"], env, true)).mode).toBe("daemon");
  });
});
