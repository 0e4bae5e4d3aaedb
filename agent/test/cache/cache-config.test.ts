import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";

describe("cache flags", () => {
  test("off by default, 2G and 7 days when a tier is on", async () => {
    expect((await parseConfig([], {})).cache).toEqual({
      dir: undefined,
      maxBytes: 2 * 1024 ** 3,
      redisUrl: undefined,
      redisMode: "rw",
      ttlSeconds: 7 * 24 * 3600,
    });
  });

  test("every flag, and the Redis URL from DISTCCD_CACHE_REDIS (a flag wins)", async () => {
    const config = await parseConfig(
      ["--cache-dir", "/var/cache/distccd", "--cache-size", "500M", "--cache-ttl", "3600", "--cache-redis-mode", "ro"],
      { DISTCCD_CACHE_REDIS: "redis+unix:///run/redis.sock" },
    );
    expect(config.cache).toEqual({
      dir: "/var/cache/distccd",
      maxBytes: 500 * 1024 ** 2,
      redisUrl: "redis+unix:///run/redis.sock",
      redisMode: "ro",
      ttlSeconds: 3600,
    });
    const flag = await parseConfig(["--cache-redis", "rediss://cache:6380"], { DISTCCD_CACHE_REDIS: "redis://other" });
    expect(flag.cache.redisUrl).toBe("rediss://cache:6380");
    expect(flag.warnings.join("\n")).not.toContain("password");
    const secret = await parseConfig(["--cache-redis", "redis://:hunter2@cache:6379"], {});
    expect(secret.warnings.join("\n")).toContain("--cache-redis holds a password");
    expect(secret.warnings.join("\n")).not.toContain("hunter2");
  });

  test("a bad URL is refused without repeating its password", async () => {
    const error = await parseConfig([], { DISTCCD_CACHE_REDIS: "http://user:hunter2@cache" }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe("E_CONFIG_CACHE_REDIS");
    expect(error.message).not.toContain("hunter2");
  });

  test.each([
    [["--cache-redis-mode", "wo"], "E_CONFIG_FLAGS"],
    [["--cache-ttl", "0"], "E_CONFIG_RANGE"],
    [["--cache-size", "10"], "E_CONFIG_RANGE"],
  ])("%p is refused", async (argv, code) => {
    expect(await parseConfig(argv, {}).catch((e) => e.code)).toBe(code);
  });
});
