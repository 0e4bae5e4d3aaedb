import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { zeroconfSubtype } from "../../src/farm/compiler-identity.ts";
import { zeroconfRecords } from "../../src/farm/zeroconf.ts";

describe("zeroconf records, as the C server's", () => {
  test.each([
    [{ machine: "powerpc-linux-gnu", version: "12" }, "powerpc-linux-gnu--12"],
    [{ machine: "x86_64-linux-gnu", version: "12.2.0" }, "x86-64-linux-gnu--12-2-0"],
    [{ machine: "PowerPC-Unknown-Linux-GNU", version: "13" }, "powerpc-unknown-linux-gnu--13"],
  ])("the subtype of %j is %s", (identity, subtype) => {
    expect(zeroconfSubtype(identity)).toBe(subtype);
  });

  test("TXT names the first compiler that answered; one subtype per distinct machine and version", () => {
    const records = zeroconfRecords({
      jobs: 6,
      version: "0.1.0",
      compilers: [
        { name: "missing-gcc", machine: undefined, version: undefined },
        { name: "powerpc-unknown-linux-gnu-gcc", machine: "powerpc-linux-gnu", version: "12" },
        { name: "powerpc-unknown-linux-gnu-g++", machine: "powerpc-linux-gnu", version: "12" },
        { name: "aarch64-linux-gnu-gcc", machine: "aarch64-linux-gnu", version: "13" },
      ],
    });
    expect(records).toEqual({
      txt: {
        txtvers: "1",
        cpus: String(availableParallelism()),
        jobs: "6",
        distcc: "0.1.0",
        gnuhost: expect.stringMatching(/-linux-gnu$/),
        cc_version: "12",
        cc_machine: "powerpc-linux-gnu",
      },
      subtypes: ["powerpc-linux-gnu--12", "aarch64-linux-gnu--13"],
    });
  });

  test("no compiler answered: no cc_ records and no subtype", () => {
    const records = zeroconfRecords({ jobs: 2, version: "0.1.0", compilers: [{ name: "gcc", machine: undefined, version: undefined }] });
    expect([records.txt.cc_version, records.txt.cc_machine, records.subtypes]).toEqual([undefined, undefined, []]);
  });
});
