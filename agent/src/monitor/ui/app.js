// The farm monitor page: polls ../api/farm (this agent and its peers, gathered by the agent)
// and refreshes at once when ../api/events reports a change here. Every name on the page comes
// from clients, so the page only ever builds text nodes.

const POLL_MS = 1000;
/** Soonest refresh after an event: a busy build sends hundreds a second. */
const EVENT_REFRESH_MS = 500;
/** Finished jobs are asked for from a little before the last answer. */
const SINCE_SLACK_MS = 15_000;
/** An agent whose clock is this far from the one the page talks to gets a `since` in its own clock. */
const OWN_SINCE_SKEW_MS = 5000;
const KEEP_MS = 15 * 60_000;
const KEEP_PER_AGENT = 5000;

const OUTCOMES = {
  COMPILE_OK: "compiled",
  CACHE_HIT: "cache hit",
  COMPILE_ERROR: "compile error",
  COMPILE_TIMEOUT: "timed out",
  CLI_DISCONN: "client left",
  REJ_OVERLOAD: "busy: sent elsewhere",
  OTHER: "refused",
  REJ_BAD_REQ: "bad request",
};

const state = {
  /** name -> { summary, state, error, self, skew, running, queued, finished: Map } */
  agents: new Map(),
  since: undefined,
  windowMs: 300_000,
  connected: false,
  lastAnswer: 0,
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function seconds(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function outcomeOf(job) {
  return job.outcome === "COMPILE_OK" && job.cache === "hit" ? "CACHE_HIT" : job.outcome;
}

function jobKey(job) {
  return `${job.startedAt}:${job.id}`;
}

function merge(view) {
  const seen = new Set();
  for (const entry of view.agents) {
    seen.add(entry.name);
    let agent = state.agents.get(entry.name);
    if (!agent) {
      agent = { finished: new Map(), running: [], queued: [], skew: 0 };
      state.agents.set(entry.name, agent);
    }
    agent.state = entry.state;
    agent.self = entry.self;
    agent.error = entry.error;
    if (entry.jobs) {
      agent.summary = entry.jobs.agent;
      agent.skew = entry.jobs.agent.now - Date.now();
      agent.running = entry.jobs.running;
      agent.queued = entry.jobs.queued;
      for (const job of entry.jobs.finished) {
        job.key = jobKey(job);
        agent.finished.set(job.key, job);
      }
    } else {
      agent.running = [];
      agent.queued = [];
    }
    const oldest = Date.now() + agent.skew - KEEP_MS;
    for (const [key, job] of agent.finished) if (job.endedAt < oldest) agent.finished.delete(key);
    while (agent.finished.size > KEEP_PER_AGENT) agent.finished.delete(agent.finished.keys().next().value);
  }
  for (const name of state.agents.keys()) if (!seen.has(name)) state.agents.delete(name);
  state.since = view.now - SINCE_SLACK_MS;
}

function farmUrl() {
  if (state.since === undefined) return "../api/farm";
  const params = new URLSearchParams({ since: String(Math.floor(state.since)) });
  const own = [...state.agents.values()].find((agent) => agent.self);
  for (const [name, agent] of state.agents)
    if (agent.summary && own && Math.abs(agent.skew - own.skew) > OWN_SINCE_SKEW_MS)
      params.set(`since.${name}`, String(Math.floor(agent.summary.now - SINCE_SLACK_MS)));
  return `../api/farm?${params}`;
}

let inFlight = false;
let again = false;

async function refresh() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    const response = await fetch(farmUrl(), { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    merge(await response.json());
    state.connected = true;
    state.lastAnswer = Date.now();
  } catch (error) {
    state.connected = false;
    document.getElementById("connection").textContent = `no answer from this agent (${error.message}); retrying`;
  } finally {
    inFlight = false;
  }
  render();
  if (again) {
    again = false;
    refresh();
  }
}

let pending;
function soon() {
  if (pending === undefined)
    pending = setTimeout(() => {
      pending = undefined;
      refresh();
    }, EVENT_REFRESH_MS);
}

function badge(agent) {
  if (agent.state === "lost") return el("span", "badge lost", "lost");
  if (agent.error) return el("span", "badge lost", `unreachable: ${agent.error}`);
  if (agent.state === "draining" || agent.summary?.draining) return el("span", "badge draining", "draining");
  return el("span", "badge live", agent.self ? "live · this agent" : "live");
}

function jobLine(job, now) {
  const line = el("div", `job phase-${job.phase}`);
  line.dataset.phase = job.phase;
  line.append(
    el("span", "source", job.source ?? "(request arriving)"),
    el("span", "phase", job.phase),
    el("span", "elapsed", seconds(Math.max(0, now - job.startedAt))),
    el("span", "client", job.client),
    el("span", "compiler", job.compiler ?? ""),
    el("span", "protocol", job.protocol ? `protocol ${job.protocol}` : ""),
  );
  return line;
}

function statsLine(summary) {
  const parts = [`${summary.jobsPerMinute} jobs/min`];
  if (summary.cache) {
    const lookups = summary.cache.hits + summary.cache.misses;
    parts.push(`cache hits ${Math.round((100 * summary.cache.hits) / lookups)}% of ${lookups}`);
  }
  const refusals = Object.entries(summary.refusals).sort((a, b) => b[1] - a[1]);
  parts.push(refusals.length === 0 ? "no refusals" : `refused: ${refusals.map(([reason, n]) => `${reason} ${n}`).join(", ")}`);
  return parts.join(" · ");
}

function agentCard(name, agent) {
  const card = el("article", `agent state-${agent.state}${agent.error ? " unreachable" : ""}`);
  card.dataset.agent = name;
  const head = el("header", "agent-head");
  head.append(el("h3", "", name), badge(agent));
  card.append(head);
  const summary = agent.summary;
  if (summary) {
    card.append(el("p", "meta", `version ${summary.version} · ${summary.slots} slots · sandbox: ${summary.sandbox ?? "not reported"}`));
    card.append(el("p", "rates", statsLine(summary)));
  }
  if (agent.state === "lost" || agent.error) {
    card.append(el("p", "gone", agent.state === "lost" ? "This agent stopped answering its peers." : "No jobs from this agent right now."));
    return card;
  }
  const now = Date.now() + agent.skew;
  const lanes = el("div", "lanes");
  const bySlot = new Map(agent.running.filter((job) => job.phase === "compiling").map((job) => [job.slot, job]));
  const slots = Math.max(summary?.slots ?? 0, ...[...bySlot.keys()].map((slot) => slot + 1));
  // A run of three or more idle slots takes one line, so a 32-slot node still fits the screen.
  for (let slot = 0; slot < slots; ) {
    const job = bySlot.get(slot);
    let idleTo = slot;
    while (!job && idleTo + 1 < slots && !bySlot.has(idleTo + 1)) idleTo++;
    const lane = el("div", job ? "lane" : "lane idle-lane");
    if (job) lane.append(el("span", "slot", `slot ${slot + 1}`), jobLine(job, now));
    else if (idleTo - slot >= 2) lane.append(el("span", "slot", `slots ${slot + 1}–${idleTo + 1}`), el("div", "idle", "idle"));
    else {
      idleTo = slot;
      lane.append(el("span", "slot", `slot ${slot + 1}`), el("div", "idle", "idle"));
    }
    lanes.append(lane);
    slot = idleTo + 1;
  }
  card.append(lanes);
  const moving = agent.running.filter((job) => job.phase !== "compiling");
  if (moving.length > 0) {
    const box = el("div", "transfers");
    box.append(el("h4", "", `receiving or replying (${moving.length})`));
    for (const job of moving) box.append(jobLine(job, now));
    card.append(box);
  }
  const queue = el("div", "queue");
  queue.append(el("h4", "", agent.queued.length === 0 ? "queue empty" : `queue (${agent.queued.length})`));
  for (const job of agent.queued) queue.append(jobLine(job, now));
  card.append(queue);
  return card;
}

/**
 * The timeline keeps its bars from one render to the next: a finished job's bar never changes,
 * and time passing moves one strip per row, so a busy farm costs a few new bars a second
 * instead of thousands. Positions are in the browser's clock, measured from `origin`.
 */
const timeline = {
  layout: "",
  origin: 0,
  /** `agent/row` -> the strip that holds the row's bars */
  strips: new Map(),
  /** agent -> job key -> { node, finished, seen } */
  bars: new Map(),
  /** Counts renders: a bar not seen in this one has left the span. */
  generation: 0,
};

function label(job, end) {
  const phases = Object.entries(job.phases)
    .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
    .join(", ");
  const what = job.endedAt === undefined ? job.phase : (OUTCOMES[outcomeOf(job)] ?? job.outcome);
  return `${job.source ?? "?"} from ${job.client} · ${job.compiler ?? ""} · ${what} · ${seconds(end - job.startedAt)}${phases ? ` (${phases})` : ""}`;
}

function place(node, job, agent, now) {
  const start = job.startedAt - agent.skew;
  const end = job.endedAt === undefined ? now : job.endedAt - agent.skew;
  node.style.left = `${(((start - (timeline.origin - state.windowMs)) / state.windowMs) * 100).toFixed(4)}%`;
  node.style.width = `${((Math.max(0, end - start) / state.windowMs) * 100).toFixed(4)}%`;
  const finished = job.endedAt !== undefined;
  node.className = finished ? `bar finished outcome-${outcomeOf(job)}` : "bar running";
  node.dataset.outcome = finished ? outcomeOf(job) : "running";
  node.title = label(job, end + agent.skew);
}

/** The jobs an agent's timeline shows: finished within the span, or running in a slot. */
function timelineJobs(agent, now) {
  const from = now + agent.skew - state.windowMs;
  const running = agent.running.filter((job) => job.slot !== undefined);
  return [...agent.finished.values(), ...running].filter((job) => job.endedAt === undefined || job.endedAt >= from);
}

function rowNames(agent, jobs) {
  const slots = Math.max(agent.summary?.slots ?? 0, ...jobs.map((job) => (job.slot ?? -1) + 1));
  const rows = Array.from({ length: slots }, (_, slot) => `slot ${slot + 1}`);
  if (jobs.some((job) => job.slot === undefined)) rows.push("no slot");
  return rows;
}

/** The timeline's rows, detached: the bars go in before it replaces the old one. */
function rebuildTimeline(names, rowsByAgent, now) {
  timeline.origin = now;
  timeline.strips.clear();
  timeline.bars.clear();
  const blocks = names.map((name) => {
    const agent = state.agents.get(name);
    const block = el("div", "tl-agent");
    block.dataset.agent = name;
    block.append(el("div", "tl-name", agent.state === "lost" ? `${name} (lost)` : name));
    for (const row of rowsByAgent.get(name)) {
      const line = el("div", "tl-row");
      const track = el("div", "tl-track");
      const strip = el("div", "tl-strip");
      track.append(strip);
      line.append(el("span", "tl-label", row), track);
      block.append(line);
      timeline.strips.set(`${name}/${row}`, strip);
    }
    return block;
  });
  return [axis(), ...blocks];
}

function renderTimeline(names) {
  const now = Date.now();
  const jobsByAgent = new Map(names.map((name) => [name, timelineJobs(state.agents.get(name), now)]));
  const rowsByAgent = new Map(names.map((name) => [name, rowNames(state.agents.get(name), jobsByAgent.get(name))]));
  const layout = JSON.stringify([
    state.windowMs,
    ...names.map((name) => [name, state.agents.get(name).state === "lost", rowsByAgent.get(name)]),
  ]);
  let rebuilt;
  if (layout !== timeline.layout || now - timeline.origin > 10 * state.windowMs) {
    timeline.layout = layout;
    rebuilt = rebuildTimeline(names, rowsByAgent, now);
  } else document.querySelector("#timeline .tl-axis")?.replaceWith(axis());
  const generation = ++timeline.generation;
  for (const name of names) {
    const agent = state.agents.get(name);
    let bars = timeline.bars.get(name);
    if (!bars) {
      bars = new Map();
      timeline.bars.set(name, bars);
    }
    for (const job of jobsByAgent.get(name)) {
      const key = job.key ?? jobKey(job);
      let bar = bars.get(key);
      if (!bar) {
        bar = { node: el("div", "bar"), finished: false, seen: 0 };
        bars.set(key, bar);
        timeline.strips.get(`${name}/${job.slot === undefined ? "no slot" : `slot ${job.slot + 1}`}`)?.append(bar.node);
      }
      bar.seen = generation;
      if (bar.finished) continue;
      place(bar.node, job, agent, now);
      bar.finished = job.endedAt !== undefined;
    }
  }
  for (const bars of timeline.bars.values())
    for (const [key, bar] of bars)
      if (bar.seen !== generation) {
        bar.node.remove();
        bars.delete(key);
      }
  const shift = `translateX(${(((timeline.origin - now) / state.windowMs) * 100).toFixed(4)}%)`;
  for (const strip of timeline.strips.values()) strip.style.transform = shift;
  if (rebuilt) document.getElementById("timeline").replaceChildren(...rebuilt);
}

function axis() {
  const line = el("div", "tl-row tl-axis");
  const track = el("div", "tl-track");
  const minutes = state.windowMs / 60_000;
  const step = minutes <= 1 ? 0.25 : minutes <= 5 ? 1 : 3;
  for (let m = 0; m <= minutes; m += step) {
    const tick = el("span", "tick", m === 0 ? "now" : `−${m < 1 ? `${m * 60}s` : `${m}m`}`);
    tick.style.right = `${((m / minutes) * 100).toFixed(3)}%`;
    track.append(tick);
  }
  line.append(el("span", "tl-label", ""), track);
  return line;
}

function render() {
  const names = [...state.agents.keys()];
  const agents = document.getElementById("agents");
  agents.replaceChildren(...names.map((name) => agentCard(name, state.agents.get(name))));
  renderTimeline(names);
  let running = 0;
  let queued = 0;
  let perMinute = 0;
  let live = 0;
  for (const agent of state.agents.values()) {
    running += agent.running.length;
    queued += agent.queued.length;
    perMinute += agent.summary && agent.state !== "lost" ? agent.summary.jobsPerMinute : 0;
    if (agent.state !== "lost" && !agent.error) live++;
  }
  document.getElementById("summary").textContent =
    `${live} of ${names.length} agent${names.length === 1 ? "" : "s"} answering · ${running} running · ${queued} queued · ${perMinute} jobs/min`;
  if (state.connected)
    document.getElementById("connection").textContent = `live · updated ${new Date(state.lastAnswer).toLocaleTimeString()}`;
  document.getElementById("connection").classList.toggle("down", !state.connected);
}

function legend() {
  const list = document.getElementById("legend");
  const items = [["running", "running"], ...Object.entries(OUTCOMES)];
  list.replaceChildren(
    ...items.map(([key, text]) => {
      const item = el("li", "");
      item.append(el("span", `swatch ${key === "running" ? "bar running" : `outcome-${key}`}`), el("span", "", text));
      return item;
    }),
  );
}

const windowSelect = document.getElementById("window");
windowSelect.addEventListener("change", () => {
  state.windowMs = Number(windowSelect.value);
  render();
});
// Phones have no hover: a tap (or a click) shows the bar's job under the timeline.
document.getElementById("timeline").addEventListener("click", (event) => {
  const picked = event.target.closest(".bar")?.title;
  if (picked) document.getElementById("picked").textContent = picked;
});
legend();
const events = new EventSource("../api/events");
events.addEventListener("started", soon);
events.addEventListener("phase", soon);
events.addEventListener("finished", soon);
// After a reconnect, events may have been missed: ask for everything again.
events.addEventListener("open", () => {
  state.since = undefined;
  soon();
});
setInterval(refresh, POLL_MS);
setInterval(render, 1000);
refresh();
