/**
 * The job board on its own, with a hand-driven clock: phase timings, lanes, the bounded ring of
 * finished jobs, rates, and the event stream's bound on a reader that stops reading.
 */
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { eventStream, MAX_EVENT_STREAMS } from "../../src/monitor/event-stream.ts";
import { JobBoard, MAX_NAME_CHARS } from "../../src/monitor/job-board.ts";
import type { JobEvent, JobPhase } from "../../src/monitor/job-events.ts";
import { serveMonitor } from "../helpers/monitor-server.ts";
import { until } from "../helpers/wait.ts";

function board(options: { slots?: number; keep?: number } = {}) {
  const clock = { now: 1_000_000 };
  const observed: [JobPhase, number][] = [];
  const jobs = new JobBoard({
    slots: options.slots ?? 2,
    keep: options.keep,
    now: () => clock.now,
    observePhase: (phase, seconds) => observed.push([phase, seconds]),
  });
  return { jobs, clock, observed };
}

const request = { protocol: 2, compiler: "gcc", source: "a.c" };

describe("the job board", () => {
  test("a job's phases are timed from its first byte to its last, and observed once it finishes", () => {
    const { jobs, clock, observed } = board();
    const events: JobEvent["type"][] = [];
    jobs.observe((event) => events.push(event.type));
    const job = jobs.open("127.0.0.1:4000");
    clock.now += 5;
    job.phase("queued", request);
    clock.now += 20;
    job.phase("compiling");
    clock.now += 300;
    job.phase("replying", request);
    clock.now += 2;
    job.finish("COMPILE_OK");
    job.finish("CLI_DISCONN");
    job.phase("compiling");
    expect(events).toEqual(["started", "phase", "phase", "phase", "finished"]);
    expect(jobs.snapshot().finished).toEqual([
      {
        id: 1,
        client: "127.0.0.1:4000",
        protocol: 2,
        compiler: "gcc",
        source: "a.c",
        phase: "finished",
        startedAt: 1_000_000,
        phaseAt: 1_000_327,
        phases: { receiving: 5, queued: 20, compiling: 300, replying: 2 },
        slot: 0,
        cache: undefined,
        endedAt: 1_000_327,
        outcome: "COMPILE_OK",
      },
    ]);
    expect(observed).toEqual([
      ["receiving", 0.005],
      ["queued", 0.02],
      ["compiling", 0.3],
      ["replying", 0.002],
    ]);
  });

  test("running and queued jobs are apart; a compile takes the lowest free lane and leaves it when it replies", () => {
    const { jobs } = board({ slots: 2 });
    const [a, b, c] = ["a", "b", "c"].map((name) => jobs.open(name));
    for (const job of [a, b, c]) job?.phase("queued", request);
    a?.phase("compiling");
    b?.phase("compiling");
    expect(jobs.snapshot().queued.map((job) => job.client)).toEqual(["c"]);
    a?.phase("replying");
    c?.phase("compiling");
    const running = jobs.snapshot().running;
    expect(running.map((job) => [job.client, job.phase, job.slot])).toEqual([
      ["a", "replying", 0],
      ["b", "compiling", 1],
      ["c", "compiling", 0],
    ]);
  });

  test("only the last finished jobs are kept, oldest first, and ?since picks the newer ones", () => {
    const { jobs, clock } = board({ keep: 3 });
    for (let i = 0; i < 5; i++) {
      clock.now += 1000;
      jobs.open(`client${i}`).finish("COMPILE_OK");
    }
    expect(jobs.snapshot().finished.map((job) => job.client)).toEqual(["client2", "client3", "client4"]);
    expect(jobs.snapshot(clock.now - 500).finished.map((job) => job.client)).toEqual(["client4"]);
  });

  test("jobs per minute; past the ring's reach, from the ring's span", () => {
    const { jobs, clock } = board({ keep: 10 });
    for (let i = 0; i < 4; i++) jobs.open("x").finish("COMPILE_OK");
    clock.now += 61_000;
    jobs.open("x").finish("COMPILE_OK");
    expect(jobs.jobsPerMinute()).toBe(1);
    for (let i = 0; i < 10; i++) {
      clock.now += 600;
      jobs.open("x").finish("COMPILE_OK");
    }
    // Ten jobs 600 ms apart: the oldest kept ended 5.4 s ago.
    expect(jobs.jobsPerMinute()).toBe(Math.round((10 * 60_000) / 5400));
  });

  test("the cache hit ratio counts jobs that asked a cache, and is absent when none did", () => {
    const { jobs } = board();
    jobs.open("x").finish("COMPILE_OK");
    for (const outcome of ["off", "bypass"] as const) {
      const job = jobs.open("x");
      job.cache(outcome);
      job.finish("COMPILE_OK");
    }
    expect(jobs.cacheRatio()).toBeUndefined();
    for (const outcome of ["hit-disk", "hit-redis", "miss"] as const) {
      const job = jobs.open("x");
      job.cache(outcome);
      job.finish("COMPILE_OK");
    }
    expect(jobs.cacheRatio()).toEqual({ hits: 2, misses: 1 });
    expect(jobs.snapshot().finished.map((job) => job.cache)).toEqual([undefined, undefined, undefined, "hit", "hit", "miss"]);
  });

  test("a hostile client's long names are clipped", () => {
    const { jobs } = board();
    const job = jobs.open("x");
    job.phase("queued", { protocol: 1, compiler: "c".repeat(65_536), source: `${"s".repeat(65_000)}.c` });
    const [kept] = jobs.snapshot().queued;
    expect(kept?.compiler?.length).toBe(MAX_NAME_CHARS);
    expect(kept?.source?.length).toBe(MAX_NAME_CHARS);
  });
});

describe("the event stream", () => {
  test(`at most ${MAX_EVENT_STREAMS} readers at once`, () => {
    const { jobs } = board();
    const open = new AbortController();
    const request = () => new Request("http://127.0.0.1/api/events", { signal: open.signal });
    const streams = Array.from({ length: MAX_EVENT_STREAMS }, () => eventStream(jobs, request()));
    expect(streams.every((stream) => stream?.status === 200)).toBe(true);
    expect(eventStream(jobs, request())).toBeUndefined();
    open.abort();
    expect(jobs.observerCount).toBe(0);
    // A HEAD request gets the headers and leaves nothing observing.
    expect(eventStream(jobs, new Request("http://127.0.0.1/api/events", { method: "HEAD" }))?.headers.get("content-type")).toStartWith(
      "text/event-stream",
    );
    expect(jobs.observerCount).toBe(0);
  });

  test("a reader that stops reading is cut off; one that reads gets every event", async () => {
    const { jobs } = board();
    using server = serveMonitor({ board: jobs, info: { name: "t", version: "t", draining: () => false, refusals: () => ({}) } });
    const stalled = connect({ host: "127.0.0.1", port: server.port as number });
    stalled.write(`GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n`);
    stalled.pause();
    const reader = new AbortController();
    const response = await fetch(`http://127.0.0.1:${server.port}/api/events`, { signal: reader.signal });
    let received = 0;
    const reading = (async () => {
      const decoder = new TextDecoder();
      let text = "";
      try {
        for await (const chunk of response.body as ReadableStream<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          const frames = text.split("\n\n");
          text = frames.pop() ?? "";
          received += frames.filter((frame) => frame.startsWith("event: finished")).length;
        }
      } catch {
        // Aborted at the end.
      }
    })();
    await until(() => jobs.observerCount === 2, "both readers");
    // Big events, a few at a time as connections produce them, until the stalled reader's kernel buffers are full.
    const events = 40_000;
    for (let i = 0; i < events; i++) {
      const job = jobs.open("127.0.0.1:1");
      job.phase("queued", { protocol: 2, compiler: "gcc", source: `${"x".repeat(400)}.c` });
      job.finish("COMPILE_OK");
      if (i % 50 === 0) await Bun.sleep(0);
    }
    // Bounded for a loaded machine: on two busy cores the reader takes seconds over 40,000 events.
    await until(() => jobs.observerCount === 1, "the stalled reader to be cut off", 60_000);
    await until(() => received === events, `every event at the reading client (${received} so far)`, 60_000);
    reader.abort();
    await reading;
    stalled.destroy();
    // A reader that hangs up stops observing.
    await until(() => jobs.observerCount === 0, "the reading client's stream to end");
  });
});
