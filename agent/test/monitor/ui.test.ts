/**
 * The /ui page in a real headless Chromium: a slow compile shows in its slot's lane with its
 * client, compiler, protocol and phase while it runs, then as a bar coloured by its outcome on
 * the timeline, at desktop and phone widths, with no console errors. Screenshots go to
 * test-artifacts/. The agent the page is opened on shows its peers' jobs too, and marks a peer
 * that stops answering.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AgentJobs } from "../../src/monitor/agent-jobs.ts";
import { JobBoard } from "../../src/monitor/job-board.ts";
import { type Agent, freePort, startAgent } from "../helpers/agent.ts";
import { launchBrowser, openPage } from "../helpers/browser.ts";
import { serveMonitor } from "../helpers/monitor-server.ts";
import { slowCompiler } from "../helpers/slow-compiler.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC } from "../helpers/toolchain.ts";
import { until } from "../helpers/wait.ts";

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let agent: Agent;
let statsPort: number;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
const slow = slowCompiler();

beforeAll(async () => {
  statsPort = freePort();
  [agent, browser] = await Promise.all([
    startAgent({ ...slow.agentOptions(3, ["--stats", "--stats-port", String(statsPort)]), jobs: 3 }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await agent?.[Symbol.asyncDispose]();
});

describe("the /ui page", () => {
  test("a running compile in its lane, then its finished bar, at 1280 px and on a phone", async () => {
    const url = `http://127.0.0.1:${statsPort}/ui`;
    const desktop = await openPage(browser, url, DESKTOP);
    const phone = await openPage(browser, url, PHONE);
    // Some history first: a compile error and a refused compiler, each a bar of its own colour.
    expect(parseReply(await exchange(agent.port, compileRequest(1, [GCC, "-c", "bad.c", "-o", "bad.o"], "int x = ;\n"))).status).toBe(
      1 << 8,
    );
    await exchange(agent.port, compileRequest(2, ["/bin/sh", "-c", "evil.c", "-o", "evil.o"], "int y;\n"));
    const reply = exchange(
      agent.port,
      compileRequest(2, [slow.name, "-c", "widget.c", "-o", "widget.o"], "int widget(void) { return 42; }\n"),
    );

    for (const { page } of [desktop, phone]) {
      const running = page.locator('.lane .job[data-phase="compiling"]', { hasText: "widget.c" });
      await running.waitFor({ timeout: 10_000 });
      const text = await running.textContent();
      expect(text).toContain("127.0.0.1:");
      expect(text).toContain("compiling");
      expect(text).toContain(slow.name);
      expect(text).toContain("protocol 2");
      expect(await page.locator(".bar.running").count()).toBeGreaterThan(0);
    }
    await desktop.screenshot("ui-1280-running");
    await phone.screenshot("ui-phone-running");

    expect(parseReply(await reply).status).toBe(0);
    for (const { page } of [desktop, phone]) {
      await page.locator('.bar.finished[data-outcome="COMPILE_OK"]').waitFor({ timeout: 10_000 });
      expect(await page.locator(".lane .job").count()).toBe(0);
      expect(await page.locator('.bar.finished[data-outcome="COMPILE_ERROR"]').count()).toBe(1);
      expect(await page.locator('.bar.finished[data-outcome="OTHER"]').count()).toBe(1);
      const label = await page.locator('.bar.finished[data-outcome="COMPILE_OK"]').getAttribute("title");
      expect(label).toMatch(
        /^widget\.c from 127\.0\.0\.1:\d+ · slow-gcc · compiled · \d\.\d s \(receiving .*, queued .*, compiling .*, replying .*\)$/,
      );
      expect(await page.locator(".agent .rates").textContent()).toMatch(/3 jobs\/min · refused: .+ 1/);
      // The agent's own sandbox state, whatever this kernel allows.
      expect(await page.locator(".agent .meta").textContent()).toMatch(/sandbox: (Landlock ABI \d+ \(files.*\)|not enforced: .+|off .+)$/);
    }
    // A tap on a bar names its job under the timeline (phones have no tooltips).
    await phone.page.locator('.bar.finished[data-outcome="COMPILE_OK"]').click();
    expect(await phone.page.locator("#picked").textContent()).toStartWith("widget.c from 127.0.0.1:");
    await desktop.screenshot("ui-1280-finished");
    await phone.screenshot("ui-phone-finished");
    // Nothing on the phone is wider than the screen.
    expect(await phone.page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(PHONE.width);
    expect([...desktop.errors, ...phone.errors]).toEqual([]);
  });
});

describe("the farm on the page", () => {
  test("peers appear with their jobs; a draining one is marked, a stopped one unreachable, then lost", async () => {
    const peerOnePort = freePort();
    const peerTwoPort = freePort();
    await using peerOne = await startAgent({ ...slow.agentOptions(4, ["--stats", "--stats-port", String(peerOnePort)]), jobs: 2 });
    const peerTwo = await startAgent({ args: ["--stats", "--stats-port", String(peerTwoPort)], jobs: 1 });
    const peers = [
      { name: "peer-one", statsUrl: `http://127.0.0.1:${peerOnePort}`, state: "live" as "live" | "lost" },
      { name: "peer-two", statsUrl: `http://127.0.0.1:${peerTwoPort}/`, state: "live" as "live" | "lost" },
    ];
    // The agent the browser talks to, in this process, with a directory shaped as the farm module's.
    const monitor = {
      board: new JobBoard({ slots: 2 }),
      info: {
        name: "front",
        version: "test",
        draining: () => false,
        refusals: () => ({ "access-list": 2, "queue-full": 1 }),
        sandbox: () => "landlock ABI 7",
      },
      peers: { list: () => peers },
    };
    // Two jobs the cache answered, one a hit: the front shows its hit ratio and a cache-hit bar.
    for (const outcome of ["hit-disk", "miss"] as const) {
      const job = monitor.board.open("127.0.0.1:7000");
      job.phase("queued", { protocol: 2, compiler: "gcc", source: `${outcome === "miss" ? "miss" : "hit"}.c` });
      if (outcome === "miss") job.phase("compiling");
      job.cache(outcome);
      job.phase("replying");
      job.finish("COMPILE_OK");
    }
    using front = serveMonitor(monitor);
    const reply = exchange(peerOne.port, compileRequest(2, [slow.name, "-c", "gadget.c", "-o", "gadget.o"], "int gadget;\n"));
    const view = await openPage(browser, `http://127.0.0.1:${front.port}/ui/`, DESKTOP);
    const card = (name: string) => view.page.locator(`.agent[data-agent="${name}"]`);
    await card("peer-one").locator('.lane .job[data-phase="compiling"]', { hasText: "gadget.c" }).waitFor({ timeout: 10_000 });
    const cards = await view.page.locator(".agent").all();
    expect(await Promise.all(cards.map((c) => c.getAttribute("data-agent")))).toEqual(["front", "peer-one", "peer-two"]);
    expect(await card("peer-one").locator(".meta").textContent()).toContain("2 slots");
    expect(await card("peer-two").locator(".lane").count()).toBe(1);
    expect(await card("peer-two").locator(".badge").textContent()).toBe("live");
    expect(await card("front").locator(".meta").textContent()).toBe("version test · 2 slots · sandbox: landlock ABI 7");
    expect(await card("front").locator(".rates").textContent()).toBe(
      "2 jobs/min · cache hits 50% of 2 · refused: access-list 2, queue-full 1",
    );
    expect(await view.page.locator('.tl-agent[data-agent="front"] .bar.finished[data-outcome="CACHE_HIT"]').count()).toBe(1);
    await view.screenshot("ui-1280-farm");

    await peerTwo[Symbol.asyncDispose]();
    await card("peer-two").locator(".badge", { hasText: "unreachable" }).waitFor({ timeout: 10_000 });
    (peers[1] as { state: string }).state = "lost";
    await card("peer-two")
      .locator(".badge", { hasText: /^lost$/ })
      .waitFor({ timeout: 10_000 });
    expect(parseReply(await reply).status).toBe(0);
    await view.page.locator('.tl-agent[data-agent="peer-one"] .bar.finished[data-outcome="COMPILE_OK"]').waitFor({ timeout: 10_000 });

    // SIGTERM during a compile: the agent finishes it, and says it is draining meanwhile.
    const late = exchange(peerOne.port, compileRequest(2, [slow.name, "-c", "late.c", "-o", "late.o"], "int late;\n"));
    // Straight from the peer, so the drain starts with most of the compile still ahead.
    await until(async () => {
      const jobs = (await (await fetch(`http://127.0.0.1:${peerOnePort}/api/jobs`)).json()) as AgentJobs;
      return jobs.running.some((job) => job.source === "late.c" && job.phase === "compiling");
    }, "late.c to compile");
    process.kill(peerOne.pid, "SIGTERM");
    await card("peer-one")
      .locator(".badge", { hasText: /^draining$/ })
      .waitFor({ timeout: 10_000 });
    await view.screenshot("ui-1280-farm-lost");
    expect(parseReply(await late).status).toBe(0);
    expect(view.errors).toEqual([]);
  });
});
