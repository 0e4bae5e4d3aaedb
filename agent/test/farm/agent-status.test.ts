import { describe, expect, test } from "bun:test";
import { agentStatus, defaultAdvertisedHost, parseStatus } from "../../src/farm/agent-status.ts";

const sources = {
  id: "id-1",
  version: "0.1.0",
  advertised: { host: "fd00::7", port: 3632 },
  slots: 6,
  running: () => 2,
  queued: () => 1,
  draining: () => false,
  compilers: () => [{ name: "gcc", machine: "powerpc-linux-gnu", version: "12" }],
};

describe("/status", () => {
  test("this agent's document, with the sections other modules hang on it", () => {
    const status = agentStatus({
      ...sources,
      extra: {
        cache: () => ({ hits: 3 }),
        sandbox: () => undefined,
        broken: () => {
          throw new Error("redis is down");
        },
      },
    });
    expect(status).toEqual({
      cache: { hits: 3 },
      broken: { error: "redis is down" },
      id: "id-1",
      version: "0.1.0",
      address: "[fd00::7]:3632",
      host: "fd00::7",
      port: 3632,
      slots: 6,
      running: 2,
      queued: 1,
      draining: false,
      protocols: [1, 2, 3],
      compilers: [{ name: "gcc", machine: "powerpc-linux-gnu", version: "12" }],
    });
    expect(parseStatus(JSON.parse(JSON.stringify(status)))).toMatchObject({ address: "[fd00::7]:3632", slots: 6 });
  });

  test.each([
    ["not an object", "hello"],
    ["null", null],
    ["no id", { address: "a:1", host: "a", port: 1, slots: 1, draining: false }],
    ["slots 0", { id: "x", address: "a:1", host: "a", port: 1, slots: 0, draining: false }],
    ["a port that is text", { id: "x", address: "a:1", host: "a", port: "1", slots: 1, draining: false }],
    ["no draining flag", { id: "x", address: "a:1", host: "a", port: 1, slots: 1 }],
  ])("a peer's answer that is %s is a failed poll", (_name, value) => {
    expect(parseStatus(value)).toBeUndefined();
  });

  test("a listener on one address advertises it; a wildcard one an external address or loopback", () => {
    expect(defaultAdvertisedHost("10.1.2.3")).toBe("10.1.2.3");
    expect(defaultAdvertisedHost("0.0.0.0")).toMatch(/^(\d+\.){3}\d+$|:/);
  });
});
