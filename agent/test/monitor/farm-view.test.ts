/**
 * The farm view against peers that misbehave (real HTTP servers on loopback): each gets a
 * reason on the page and the rest of the farm is still shown; lost peers are not asked.
 */
import { expect, test } from "bun:test";
import { type AgentJobs, agentJobs } from "../../src/monitor/agent-jobs.ts";
import { type FarmView, farmView, type PeerState } from "../../src/monitor/farm-view.ts";
import { JobBoard } from "../../src/monitor/job-board.ts";
import { serveMonitor } from "../helpers/monitor-server.ts";

const info = (name: string) => ({ name, version: "t", draining: () => false, refusals: () => ({ "access-list": 2 }) });

test("peers that answer, fail, lie, send malformed jobs, flood or are lost: each shown for what it is", async () => {
  const peerBoard = new JobBoard({ slots: 3 });
  peerBoard.open("10.0.0.9:5000").phase("queued", { protocol: 3, compiler: "g++", source: "big.cpp" });
  let asked = 0;
  const answers: Record<string, (url: URL) => Response> = {
    good: (url) => Response.json(agentJobs(peerBoard, info("good"), Number(url.searchParams.get("since")))),
    denied: () => new Response("access denied\n", { status: 403 }),
    liar: () => Response.json({ agent: "me", running: 3 }),
    sloppy: () =>
      Response.json({
        agent: { name: "sloppy", slots: "many", refusals: { "access-list": 3, odd: "x" }, draining: "yes" },
        running: [
          { id: 1, client: "10.0.0.2:1", phase: "compiling", startedAt: 5, phases: { receiving: 2, compiling: "long" } },
          "junk",
          { id: "2" },
        ],
        finished: [{ id: 3, client: "10.0.0.3:1", phase: "sideways", startedAt: 1 }],
      }),
    flood: () => new Response(new Uint8Array(9 << 20)),
  };
  const servers = Object.entries(answers).map(([name, answer]) => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        asked++;
        const url = new URL(request.url);
        return url.pathname === "/api/jobs" ? answer(url) : new Response("wrong path", { status: 404 });
      },
    });
    // A path on statsUrl is replaced by /api/jobs.
    return { name, state: "live" as PeerState, statsUrl: `http://127.0.0.1:${server.port}/status`, server };
  });
  const peers = [
    ...servers,
    { name: "gone", state: "lost" as PeerState, statsUrl: "http://127.0.0.1:9/" },
    { name: "self", state: "live" as PeerState, statsUrl: "http://127.0.0.1:9/" },
    // The farm module lists this agent under its stats address, marked self.
    { name: "127.0.0.1:9", state: "live" as PeerState, statsUrl: "http://127.0.0.1:9/", self: true },
  ];
  const directory = { list: () => peers };
  const own: AgentJobs = agentJobs(new JobBoard({ slots: 2 }), info("self"));
  const view = await farmView(own, directory, (name) => (name === "good" ? 1234 : undefined));
  expect(view.agents.map((agent) => [agent.name, agent.state, agent.self, agent.error ?? "", agent.jobs?.agent.slots ?? 0])).toEqual([
    ["self", "live", true, "", 2],
    ["denied", "live", false, "HTTP 403", 0],
    ["flood", "live", false, `answer larger than ${8 << 20} bytes`, 0],
    ["gone", "lost", false, "", 0],
    ["good", "live", false, "", 3],
    ["liar", "live", false, "not an /api/jobs answer", 0],
    ["sloppy", "live", false, "", 0],
  ]);
  // A peer's malformed jobs and fields are dropped or emptied, not passed on to the page.
  const sloppy = view.agents.find((agent) => agent.name === "sloppy")?.jobs;
  expect(sloppy?.agent).toMatchObject({ slots: 0, draining: false, refusals: { "access-list": 3 }, version: "unknown" });
  expect(sloppy?.running.map((job) => [job.id, job.phases])).toEqual([[1, { receiving: 2 }]]);
  expect([sloppy?.queued, sloppy?.finished]).toEqual([[], []]);
  expect(view.agents.find((agent) => agent.name === "good")?.jobs?.queued.map((job) => job.source)).toEqual(["big.cpp"]);
  // Neither the lost peer nor this agent's own entry in the directory is asked.
  expect(asked).toBe(5);
  for (const { server } of servers) server.stop(true);
});

test("/api/farm passes each peer its own ?since.NAME, else the common ?since", async () => {
  const heard: Record<string, string | null> = {};
  const peerServers = ["near", "skewed"].map((name) => {
    const board = new JobBoard({ slots: 1 });
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        heard[name] = new URL(request.url).searchParams.get("since");
        return Response.json(agentJobs(board, info(name)));
      },
    });
    return { name, state: "live" as PeerState, statsUrl: `http://127.0.0.1:${server.port}`, server };
  });
  using front = serveMonitor({ board: new JobBoard({ slots: 1 }), info: info("front"), peers: { list: () => peerServers } });
  const answer = await fetch(`http://127.0.0.1:${front.port}/api/farm?since=5000&since.skewed=90000`);
  expect(((await answer.json()) as FarmView).agents.map((agent) => agent.name)).toEqual(["front", "near", "skewed"]);
  expect(heard).toEqual({ near: "5000", skewed: "90000" });
  for (const { server } of peerServers) server.stop(true);
});
