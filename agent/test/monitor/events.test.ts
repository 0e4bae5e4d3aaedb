/**
 * /api/events and /api/jobs against the built agent and the real distcc client: a 20-job build
 * gives exactly one start and one finish per job, each job passes through its phases in order,
 * and the same jobs with their phase timings are in /api/jobs and in distccd_job_phase_seconds.
 * Everything but /healthz and /readyz stays behind the stats port's access check.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { AgentJobs } from "../../src/monitor/agent-jobs.ts";
import type { FarmView } from "../../src/monitor/farm-view.ts";
import type { JobEvent } from "../../src/monitor/job-events.ts";
import { freePort, startAgent } from "../helpers/agent.ts";
import { distcc } from "../helpers/distcc.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC } from "../helpers/toolchain.ts";
import { until } from "../helpers/wait.ts";
import { workspace } from "../helpers/workspace.ts";

const JOBS = 20;

/** Reads Server-Sent Events into `events` until the response's request is aborted. */
async function collect(response: Response, events: JobEvent[], signal: AbortSignal): Promise<void> {
  expect(response.headers.get("content-type")).toStartWith("text/event-stream");
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const chunk of response.body as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const type = block.match(/^event: (.+)$/m)?.[1];
        const data = block.match(/^data: (.+)$/m)?.[1];
        if (type !== undefined && data !== undefined) events.push({ type, job: JSON.parse(data) } as JobEvent);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

describe("job events", () => {
  test(`a ${JOBS}-job build: one start and one finish per job, phases in order, timings in /api/jobs and /metrics`, async () => {
    const statsPort = freePort();
    await using agent = await startAgent({ args: ["--stats", "--stats-port", String(statsPort)], jobs: 3 });
    const events: JobEvent[] = [];
    const stop = new AbortController();
    // The agent observes the board before it sends the headers: no event of the build is missed.
    const stream = await fetch(`http://127.0.0.1:${statsPort}/api/events`, { signal: stop.signal });
    const reading = collect(stream, events, stop.signal);

    const dir = workspace();
    for (let i = 0; i < JOBS; i++) writeFileSync(join(dir, `unit${i}.c`), `int unit${i}(int x) { return x * ${i}; }\n`);
    const hosts = `127.0.0.1:${agent.port}/3,lzo`;
    const distccDir = join(dir, ".distcc");
    mkdirSync(distccDir);
    // Five clients at a time against three slots, as `make -j5` would: some jobs queue.
    for (let batch = 0; batch < JOBS; batch += 5) {
      const runs = await Promise.all(
        Array.from({ length: 5 }, (_, k) =>
          distcc([GCC, "-O2", "-c", `unit${batch + k}.c`, "-o", `unit${batch + k}.o`], { hosts, cwd: dir, distccDir }),
        ),
      );
      for (const run of runs) expect({ exitCode: run.exitCode, log: run.log }).toMatchObject({ exitCode: 0 });
    }
    await until(() => events.filter((event) => event.type === "finished").length >= JOBS, "every finish event");
    stop.abort();
    await reading;

    const byJob = Map.groupBy(events, (event) => event.job.id);
    expect(byJob.size).toBe(JOBS);
    for (const [, jobEvents] of byJob) {
      expect(jobEvents.filter((event) => event.type === "started")).toHaveLength(1);
      expect(jobEvents.filter((event) => event.type === "finished")).toHaveLength(1);
      expect(jobEvents.map((event) => `${event.type}:${event.job.phase}`)).toEqual([
        "started:receiving",
        "phase:queued",
        "phase:compiling",
        "phase:replying",
        "finished:finished",
      ]);
      const finished = jobEvents.at(-1)?.job;
      expect(finished).toMatchObject({
        outcome: "COMPILE_OK",
        protocol: 2,
        compiler: GCC,
        client: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      });
      expect(finished?.source).toMatch(/^unit\d+\.c$/);
      expect(finished?.slot).toBeOneOf([0, 1, 2]);
    }

    const jobs = (await (await fetch(`http://127.0.0.1:${statsPort}/api/jobs`)).json()) as AgentJobs;
    expect(jobs.running).toEqual([]);
    expect(jobs.queued).toEqual([]);
    expect(jobs.finished).toHaveLength(JOBS);
    expect(jobs.agent).toMatchObject({ slots: 3, version: expect.any(String), draining: false, jobsPerMinute: JOBS });
    for (const job of jobs.finished) {
      expect(Object.keys(job.phases).sort()).toEqual(["compiling", "queued", "receiving", "replying"]);
      const total = Object.values(job.phases).reduce((a, b) => a + (b ?? 0), 0);
      expect(Math.abs(total - ((job.endedAt ?? 0) - job.startedAt))).toBeLessThan(0.01);
      expect(job.phases.compiling).toBeGreaterThan(0);
    }
    const newest = Math.max(...jobs.finished.map((job) => job.endedAt ?? 0));
    const since = (await (await fetch(`http://127.0.0.1:${statsPort}/api/jobs?since=${newest - 0.001}`)).json()) as AgentJobs;
    expect(since.finished).toHaveLength(1);

    // The parser folds labelled histogram series together, so the counts are read from the text.
    const metrics = await (await fetch(`http://127.0.0.1:${statsPort}/metrics`)).text();
    expect(parsePrometheusTextFormat(metrics).find((family) => family.name === "distccd_job_phase_seconds")?.type).toBe("HISTOGRAM");
    for (const phase of ["receiving", "queued", "compiling", "replying"])
      expect(metrics).toContain(`distccd_job_phase_seconds_count{phase="${phase}"} ${JOBS}\n`);
  });

  test("the monitor stays behind the stats port's access check; the probes do not", async () => {
    const statsPort = freePort();
    // Listening on :: so that a client on ::1 is outside the IPv4-only allow list.
    await using _agent = await startAgent({ listen: "::", allow: ["127.0.0.1"], args: ["--stats", "--stats-port", String(statsPort)] });
    const status = async (host: string, path: string) => (await fetch(`http://${host}:${statsPort}${path}`, { redirect: "manual" })).status;
    for (const path of ["/api/jobs", "/api/farm", "/api/events", "/ui", "/ui/", "/ui/app.js", "/metrics"]) {
      expect({ path, status: await status("[::1]", path) }).toEqual({ path, status: 403 });
    }
    expect(await status("[::1]", "/healthz")).toBe(200);
    expect(await status("127.0.0.1", "/ui")).toBe(301);
    expect(await status("127.0.0.1", "/ui/")).toBe(200);
    expect(await status("127.0.0.1", "/ui/nothing.js")).toBe(404);
    const method = await fetch(`http://127.0.0.1:${statsPort}/api/jobs`, { method: "POST" });
    expect(method.status).toBe(405);
  });

  test("--peers: the agent's /api/farm holds its peer's jobs, and marks the peer lost once it stops", async () => {
    const [aStats, bStats] = [freePort(), freePort()];
    await using b = await startAgent({ args: ["--stats", "--stats-port", String(bStats)] });
    await using _a = await startAgent({
      args: ["--stats", "--stats-port", String(aStats), "--peers", `127.0.0.1:${bStats}`, "--peers-interval", "0.2"],
    });
    expect(parseReply(await exchange(b.port, compileRequest(2, [GCC, "-c", "peer.c", "-o", "peer.o"], "int peer;\n"))).status).toBe(0);
    const farm = async () => (await (await fetch(`http://127.0.0.1:${aStats}/api/farm`)).json()) as FarmView;
    await until(
      async () => (await farm()).agents.some((agent) => agent.jobs?.finished.some((job) => job.source === "peer.c")),
      "the peer's job",
    );
    const view = await farm();
    expect(view.agents.map((agent) => [agent.self, agent.state])).toEqual([
      [true, "live"],
      [false, "live"],
    ]);
    expect(view.agents[1]?.name).toBe(`127.0.0.1:${bStats}`);
    await b.stop();
    await until(async () => (await farm()).agents[1]?.state === "lost", "the stopped peer to be lost");
  });
});
