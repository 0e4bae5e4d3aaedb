// The farm monitor page: polls ../api/farm (this agent and its peers, gathered by the agent)
// and refreshes at once when ../api/events reports a change here. Every name on the page comes
// from clients, so the page only ever builds text nodes.

const POLL_MS = 1000;
/** Soonest refresh after an event: a busy build sends hundreds a second. */
const EVENT_REFRESH_MS = 500;
/** Finished jobs are asked for from a little before the last answer, for clocks that differ. */
const SINCE_SLACK_MS = 15_000;
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
  /** While the pointer is on the timeline it stays still, so a bar's tooltip does not vanish. */
  holdTimeline: false,
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
      for (const job of entry.jobs.finished) agent.finished.set(jobKey(job), job);
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

let inFlight = false;
let again = false;

async function refresh() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    const url = state.since === undefined ? "../api/farm" : `../api/farm?since=${Math.floor(state.since)}`;
    const response = await fetch(url, { cache: "no-store" });
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
  for (let slot = 0; slot < slots; slot++) {
    const lane = el("div", "lane");
    lane.append(el("span", "slot", `slot ${slot + 1}`));
    const job = bySlot.get(slot);
    lane.append(job ? jobLine(job, now) : el("div", "idle", "idle"));
    lanes.append(lane);
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

function bar(job, from, span, now) {
  const end = job.endedAt ?? now;
  const left = Math.max(0, (job.startedAt - from) / span);
  const width = Math.max(0, (Math.min(end, from + span) - Math.max(job.startedAt, from)) / span);
  const node = el("div", job.endedAt === undefined ? "bar running" : `bar finished outcome-${outcomeOf(job)}`);
  node.style.left = `${(left * 100).toFixed(3)}%`;
  node.style.width = `${(width * 100).toFixed(3)}%`;
  node.dataset.outcome = job.endedAt === undefined ? "running" : outcomeOf(job);
  const phases = Object.entries(job.phases)
    .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
    .join(", ");
  const label = `${job.source ?? "?"} from ${job.client} · ${job.compiler ?? ""} · ${
    job.endedAt === undefined ? job.phase : (OUTCOMES[outcomeOf(job)] ?? job.outcome)
  } · ${seconds(end - job.startedAt)}${phases ? ` (${phases})` : ""}`;
  node.title = label;
  node.setAttribute("aria-label", label);
  node.dataset.label = label;
  return node;
}

function timelineAgent(name, agent) {
  const block = el("div", "tl-agent");
  block.dataset.agent = name;
  block.append(el("div", "tl-name", agent.state === "lost" ? `${name} (lost)` : name));
  const now = Date.now() + agent.skew;
  const from = now - state.windowMs;
  const jobs = [...agent.finished.values(), ...agent.running.filter((job) => job.slot !== undefined)].filter(
    (job) => (job.endedAt ?? now) >= from,
  );
  const slots = Math.max(agent.summary?.slots ?? 0, ...jobs.map((job) => (job.slot ?? -1) + 1));
  const rows = [];
  for (let slot = 0; slot < slots; slot++) rows.push({ label: `slot ${slot + 1}`, jobs: [] });
  const other = { label: "no slot", jobs: [] };
  for (const job of jobs) (job.slot === undefined ? other : rows[job.slot]).jobs.push(job);
  if (other.jobs.length > 0) rows.push(other);
  for (const row of rows) {
    const line = el("div", "tl-row");
    const track = el("div", "tl-track");
    for (const job of row.jobs) track.append(bar(job, from, state.windowMs, now));
    line.append(el("span", "tl-label", row.label), track);
    block.append(line);
  }
  return block;
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
  if (!state.holdTimeline)
    document.getElementById("timeline").replaceChildren(axis(), ...names.map((name) => timelineAgent(name, state.agents.get(name))));
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
const timeline = document.getElementById("timeline");
timeline.addEventListener("pointerenter", (event) => {
  if (event.pointerType === "mouse") state.holdTimeline = true;
});
timeline.addEventListener("pointerleave", () => {
  state.holdTimeline = false;
  render();
});
// Phones have no hover: a tap (or a click) shows the bar's job under the timeline.
timeline.addEventListener("click", (event) => {
  const label = event.target.closest(".bar")?.dataset.label;
  if (label) document.getElementById("picked").textContent = label;
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
