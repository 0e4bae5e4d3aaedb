/**
 * Hostile compiles on loopback with the real PowerPC compilers: confined (the default), every
 * case gets nothing out and leaves nothing outside its job. With --sandbox off the firewall's
 * cases still hold, and the cases only Landlock stops do get through, which shows each case
 * really tries what it says.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { type Agent, freePort, jobLeftovers, startAgent } from "../helpers/agent.ts";
import { contained, HOSTILE_CASES, type HostileWorld, hostileWorld } from "../helpers/hostile.ts";

let world: HostileWorld;
beforeAll(() => {
  world = hostileWorld();
});
afterAll(() => world.stop());

const statsPorts = { auto: freePort(), off: freePort() };

function agentFor(sandbox: "auto" | "off"): Promise<Agent> {
  return startAgent({
    extraPath: world.wrapperBin,
    env: world.env,
    jobs: 2,
    args: ["--whitelist", world.whitelist, "--sandbox", sandbox, "--stats", "--stats-port", String(statsPorts[sandbox])],
  });
}

describe.each(["auto", "off"] as const)("--sandbox %s", (sandbox) => {
  let agent: Agent;
  beforeAll(async () => {
    agent = await agentFor(sandbox);
  });
  afterAll(async () => {
    await agent[Symbol.asyncDispose]();
  });

  test.each(HOSTILE_CASES.map((hostile) => [hostile.name, hostile] as const))("%s", async (_name, hostile) => {
    const outcome = await hostile.run(world, agent);
    for (const file of outcome.created) rmSync(`${world.outside}/${file}`, { force: true });
    if (sandbox === "auto" || hostile.layer === "firewall") {
      expect({ ...outcome, stderr: "" }).toMatchObject({ leaked: false, created: [], connections: 0 });
      expect(outcome.stderr).not.toContain(world.token);
    } else if (hostile.getsThroughUnconfined) expect(contained(outcome)).toBe(false);
    else expect(outcome.created).toEqual([]);
    if (hostile.layer === "firewall") {
      // The firewall refuses outright or (-x, -include) makes the server never preprocess.
      if (outcome.status !== 0 && /refused/.test(outcome.stderr)) expect(outcome.status >> 8).toBe(113);
    }
  });

  test("the firewall's refusals are counted by reason", async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${statsPorts[sandbox]}/metrics`)).text();
    for (const reason of ["E_FIREWALL_RESPONSE_FILE", "E_FIREWALL_OUTPUT_PATH", "E_FIREWALL_PROGRAM_PREFIX"])
      expect(metrics).toMatch(new RegExp(`distccd_refusals_total\\{reason="${reason}"\\} [1-9]`));
  });

  test("nothing is left in the agent's temp dir or outside", () => {
    expect(jobLeftovers(agent.tmpDir)).toEqual([]);
    expect(readdirSync(world.outside)).toEqual([]);
  });
});
