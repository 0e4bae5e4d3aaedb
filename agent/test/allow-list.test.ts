import { describe, expect, test } from "bun:test";
import { compileAllowList, PRIVATE_RANGES } from "../src/allow-list.ts";
import { ConfigError } from "../src/errors.ts";

describe("compileAllowList", () => {
  test.each([
    [["127.0.0.1"], "127.0.0.1", true],
    [["127.0.0.1"], "127.0.0.2", false],
    [["10.0.0.0/8"], "10.200.3.4", true],
    [["10.0.0.0/8"], "11.0.0.1", false],
    [["0.0.0.0/0"], "203.0.113.9", true],
    [["127.0.0.1"], "::ffff:127.0.0.1", true],
    [["10.0.0.0/8"], "::ffff:10.1.2.3", true],
    [["10.0.0.0/8"], "::ffff:11.1.2.3", false],
    [["::1"], "::1", true],
    [["::1"], "127.0.0.1", false],
    [["fe80::/10"], "fe80::1%eth0", true],
    [["2001:db8::/32"], "2001:db8:1::5", true],
    [["2001:db8::/32"], "2001:db9::5", false],
    [["0.0.0.0/0"], "::1", false],
    [[], "127.0.0.1", false],
    [["127.0.0.1"], "not an address", false],
  ])("%j allows %s: %p", (rules, address, allowed) => {
    expect(compileAllowList(rules).allows(address)).toBe(allowed);
  });

  test("the private ranges include loopback, RFC 1918, link-local and ULA", () => {
    const list = compileAllowList(PRIVATE_RANGES);
    expect(["127.0.0.1", "10.1.1.1", "172.20.0.1", "192.168.1.1", "::1", "fe80::2", "fd00::1"].map((a) => list.allows(a))).toEqual(
      Array(7).fill(true),
    );
    expect(["8.8.8.8", "172.32.0.1", "2001:db8::1"].map((a) => list.allows(a))).toEqual([false, false, false]);
  });

  test.each(["1.2.3.4/40", "300.1.1.1", "10.0.0.0/x", "fe80::/129", "example.com"])("%s is a ConfigError at build time", (rule) => {
    expect(() => compileAllowList([rule])).toThrow(ConfigError);
  });

  test("remembered decisions stay right, past the point where the memory is cleared", () => {
    const list = compileAllowList(["10.0.0.0/9"]);
    const addresses = Array.from({ length: 6000 }, (_, i) => `10.${i % 256}.${i >> 8}.1`);
    const expected = addresses.map((a) => Number(a.split(".")[1]) < 128);
    for (let pass = 0; pass < 2; pass++) expect(addresses.map((a) => list.allows(a))).toEqual(expected);
    expect(list.allows("bogus")).toBe(false);
    expect(list.allows("bogus")).toBe(false);
  });

  test("rules are reported normalised", () => {
    expect(compileAllowList(["127.0.0.1", "10.0.0.0/8", "::1"]).rules).toEqual(["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
  });
});
