/**
 * The shared tier against a real redis-server on loopback: what it stores it reads back, a
 * paused or stopped Redis is skipped within a lookup's deadline (logged, counted), and it is used
 * again once it answers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisTier } from "../../src/cache/redis-tier.ts";
import { Logger } from "../../src/log.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { until } from "../helpers/wait.ts";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis({ password: "tier-pass" });
});
afterAll(async () => {
  await redis[Symbol.asyncDispose]();
});

function tier(mode: "rw" | "ro" = "rw") {
  const lines: string[] = [];
  const errors: string[] = [];
  const log = new Logger("notice", "text", { write: (line) => lines.push(line), reopen() {} });
  let stored = 0;
  const shared = new RedisTier(redis.url, mode, 60, log, { error: (operation) => errors.push(operation), stored: () => stored++ });
  return { shared, lines, errors, stored: () => stored };
}

test("an entry written is read back with its TTL; ro mode writes nothing", async () => {
  const { shared, stored } = tier();
  const entry = new Uint8Array([1, 2, 3, 250]);
  shared.set("a1", entry);
  await until(() => stored() === 1, "the store");
  expect(await shared.get("a1")).toEqual(entry);
  expect(await shared.get("b2")).toBeUndefined();
  const ttl = await redis.client().ttl("distccd:1:a1");
  expect(ttl).toBeGreaterThan(50);
  const readOnly = tier("ro");
  readOnly.shared.set("c3", entry);
  readOnly.shared.remove("a1");
  expect(await readOnly.shared.get("a1")).toEqual(entry);
  expect(await redis.client().exists("distccd:1:c3")).toBe(false);
  shared.close();
  readOnly.shared.close();
});

test("a paused Redis costs one deadline, is then skipped, and is used again once it answers", async () => {
  const { shared, lines, errors } = tier();
  expect(await shared.get("x")).toBeUndefined();
  redis.pause();
  try {
    const started = performance.now();
    expect(await shared.get("x")).toBe("skipped");
    expect(performance.now() - started).toBeLessThan(2000);
    const again = performance.now();
    expect(await shared.get("x")).toBe("skipped");
    expect(performance.now() - again).toBeLessThan(50);
    expect(errors).toEqual(["get"]);
    expect(lines.join("")).toMatch(/redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? failed \(get: GET took longer than 500 ms\)/);
    expect(shared.up).toBe(false);
  } finally {
    redis.resume();
  }
  await until(async () => (await shared.get("x")) !== "skipped", "the tier to come back", 15_000);
  expect(shared.up).toBe(true);
  expect(lines.join("")).toContain("answers again");
  shared.close();
}, 30_000);

test("a stopped Redis is skipped at once, and reconnected to after it restarts", async () => {
  const { shared, errors } = tier();
  await redis.stop();
  expect(await shared.get("y")).toBe("skipped");
  expect(errors.length).toBeGreaterThan(0);
  await redis.start();
  await until(async () => (await shared.get("y")) !== "skipped", "the tier to reconnect", 15_000);
  shared.close();
}, 30_000);
