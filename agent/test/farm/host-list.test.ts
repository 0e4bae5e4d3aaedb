import { describe, expect, test } from "bun:test";
import { formatAddress, hostsLine } from "../../src/farm/host-list.ts";

describe("the host list", () => {
  test("one order whichever agent is asked: IPv4 by number, IPv6 after, names last; each address once", () => {
    const entries = [
      { host: "build.example", port: 3632, slots: 4 },
      { host: "fd00::2", port: 3632, slots: 8 },
      { host: "10.0.0.10", port: 3632, slots: 2 },
      { host: "10.0.0.9", port: 30362, slots: 6 },
      { host: "10.0.0.10", port: 3632, slots: 3 },
    ];
    expect(hostsLine(entries, false)).toBe("10.0.0.9:30362/6,lzo 10.0.0.10:3632/2,lzo [fd00::2]:3632/8,lzo build.example:3632/4,lzo");
    expect(
      hostsLine([...entries].reverse(), false)
        .split(" ")
        .map((spec) => spec.split("/")[0]),
    ).toEqual(["10.0.0.9:30362", "10.0.0.10:3632", "[fd00::2]:3632", "build.example:3632"]);
  });

  test("pump mode adds ,cpp; an empty farm is an empty line", () => {
    expect(hostsLine([{ host: "10.0.0.1", port: 3632, slots: 4 }], true)).toBe("10.0.0.1:3632/4,lzo,cpp");
    expect(hostsLine([], false)).toBe("");
  });

  test.each([
    ["10.0.0.1", 3632, "10.0.0.1:3632"],
    ["::1", 3632, "[::1]:3632"],
    ["node-1", 30362, "node-1:30362"],
  ])("%s port %d is written %s", (host, port, written) => {
    expect(formatAddress(host, port)).toBe(written);
  });
});
