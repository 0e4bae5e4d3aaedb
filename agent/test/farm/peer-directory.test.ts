/**
 * The poller against real HTTP servers on loopback addresses 127.0.0.2 and 127.0.0.3 (one port,
 * as agents behind one headless Service name), each answering /status as the test sets it.
 * The name's addresses come from the resolver seam, so a peer can join and leave DNS.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { agentStatus } from "../../src/farm/agent-status.ts";
import { PeerPoller } from "../../src/farm/peer-directory.ts";
import { Logger } from "../../src/log.ts";
import { freePort } from "../helpers/agent.ts";
import { until } from "../helpers/wait.ts";

const INTERVAL_MS = 100;
const SELF_ID = "self-id";

type Answer = "live" | "draining" | "failing" | "self";

function statusOf(address: string, answer: Answer) {
  return agentStatus({
    id: answer === "self" ? SELF_ID : `id-${address}`,
    version: "0.1.0",
    advertised: { host: address, port: 3632 },
    slots: 4,
    running: () => 0,
    queued: () => 0,
    draining: () => answer === "draining",
    compilers: () => [],
    extra: {},
  });
}

const servers: ReturnType<typeof Bun.serve>[] = [];
/** Polls each address has answered. */
const hits: Record<string, number> = {};
const pollers: PeerPoller[] = [];

afterEach(async () => {
  for (const poller of pollers.splice(0)) {
    poller.stop();
    await poller.settled();
  }
  for (const server of servers.splice(0)) server.stop(true);
});

/** An agent's stats port at `address` whose /status answers `answers[address]`. */
function peer(address: string, port: number, answers: Record<string, Answer>): void {
  servers.push(
    Bun.serve({
      hostname: address,
      port,
      fetch: () => {
        hits[address] = (hits[address] ?? 0) + 1;
        return answers[address] === "failing"
          ? new Response("no", { status: 500 })
          : Response.json(statusOf(address, answers[address] ?? "live"));
      },
    }),
  );
}

function poller(port: number, names: Record<string, string[]>, log: string[]): PeerPoller {
  const made = new PeerPoller({
    entries: Object.keys(names).map((host) => ({ host, port: undefined })),
    intervalMs: INTERVAL_MS,
    statsPort: port,
    selfId: SELF_ID,
    self: () => statusOf("127.0.0.1", "live"),
    statsUrl: "http://127.0.0.1:3633",
    log: new Logger("notice", "text", { write: (line) => log.push(line), reopen() {} }),
    version: "0.1.0",
    resolve: async (host) => {
      const addresses = names[host];
      if (!addresses) throw Object.assign(new Error(`${host} not found`), { code: "ENOTFOUND" });
      return addresses;
    },
  });
  pollers.push(made);
  made.start();
  return made;
}

const states = (directory: PeerPoller) => directory.list().map((view) => [view.name, view.state, view.self]);

describe("the peers", () => {
  test("a name stands for all its addresses; answering peers are live, and go into /hosts", async () => {
    const port = freePort();
    const answers: Record<string, Answer> = {};
    peer("127.0.0.2", port, answers);
    peer("127.0.0.3", port, answers);
    const directory = poller(port, { "farm.test": ["127.0.0.2", "127.0.0.3"] }, []);
    await until(() => directory.live().length === 2, "both peers live");
    expect(states(directory)).toEqual([
      ["127.0.0.1:3633", "live", true],
      [`127.0.0.2:${port}`, "live", false],
      [`127.0.0.3:${port}`, "live", false],
    ]);
    expect(directory.live().map((status) => status.address)).toEqual(["127.0.0.2:3632", "127.0.0.3:3632"]);
    expect(directory.list()[1]?.statsUrl).toBe(`http://127.0.0.2:${port}`);
  });

  test("draining is left out of /hosts; two failures in a row are lost (still listed) until the peer answers again", async () => {
    const port = freePort();
    const answers: Record<string, Answer> = {};
    peer("127.0.0.2", port, answers);
    peer("127.0.0.3", port, answers);
    const log: string[] = [];
    const directory = poller(port, { "farm.test": ["127.0.0.2", "127.0.0.3"] }, log);
    await until(() => directory.live().length === 2, "both peers live");
    answers["127.0.0.2"] = "draining";
    answers["127.0.0.3"] = "failing";
    await until(() => directory.list().every((view) => view.self || view.state !== "live"), "one draining, one lost");
    expect(states(directory).slice(1)).toEqual([
      [`127.0.0.2:${port}`, "draining", false],
      [`127.0.0.3:${port}`, "lost", false],
    ]);
    expect(directory.live()).toEqual([]);
    expect(directory.list()[2]?.status).toMatchObject({ address: "127.0.0.3:3632" });
    expect(log.join("")).toContain(`peer 127.0.0.3:${port} left out of /hosts: 2 polls failed in a row (HTTP 500)`);
    answers["127.0.0.2"] = "live";
    answers["127.0.0.3"] = "live";
    await until(() => directory.live().length === 2, "both peers back");
  });

  test("an address that answers with this agent's own id is itself, never a peer", async () => {
    const port = freePort();
    const answers: Record<string, Answer> = { "127.0.0.2": "self" };
    peer("127.0.0.2", port, answers);
    peer("127.0.0.3", port, answers);
    const directory = poller(port, { "farm.test": ["127.0.0.2", "127.0.0.3"] }, []);
    await until(() => directory.live().length === 1, "the other peer live");
    await directory.settled();
    expect(states(directory).map(([name]) => name)).toEqual(["127.0.0.1:3633", `127.0.0.3:${port}`]);
  });

  test("a peer that leaves DNS leaves the list; a name that stops resolving keeps its addresses", async () => {
    const port = freePort();
    const answers: Record<string, Answer> = {};
    peer("127.0.0.2", port, answers);
    peer("127.0.0.3", port, answers);
    const names: Record<string, string[]> = { "farm.test": ["127.0.0.2", "127.0.0.3"] };
    const log: string[] = [];
    const directory = poller(port, names, log);
    await until(() => directory.live().length === 2, "both peers live");
    names["farm.test"] = ["127.0.0.3"];
    await until(() => directory.list().length === 2, "the departed peer gone");
    expect(states(directory)[1]).toEqual([`127.0.0.3:${port}`, "live", false]);
    delete names["farm.test"];
    await until(() => log.join("").includes("cannot resolve peer name farm.test: ENOTFOUND"), "the failed lookup logged");
    const polled = hits["127.0.0.3"] ?? 0;
    await until(() => (hits["127.0.0.3"] ?? 0) >= polled + 3, "three more rounds");
    expect(directory.live().map((status) => status.address)).toEqual(["127.0.0.3:3632"]);
    expect(log.join("").match(/cannot resolve/g)?.length).toBe(1);
  });
});
