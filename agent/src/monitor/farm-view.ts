/**
 * @module `GET /api/farm`: this agent's jobs and every peer's, gathered here so a browser needs
 * to reach one agent. Peers come from a directory (the farm module's, shaped as below); lost
 * peers are listed without asking them, and a peer that does not answer in time is shown with
 * the reason. Without a directory the farm is this agent alone.
 */
import type { AgentJobs } from "./agent-jobs.ts";
import { peerAnswer } from "./peer-answer.ts";

export type PeerState = "live" | "draining" | "lost";

/** The peers this agent knows, lost ones included; the farm module's lists this agent too, as `self`. */
export interface PeerDirectory {
  list(): readonly { name: string; statsUrl: string; state: PeerState; self?: boolean; status?: unknown }[];
}

export interface FarmAgent {
  readonly name: string;
  readonly state: PeerState;
  /** True for the agent that answered this request. */
  readonly self: boolean;
  readonly statsUrl?: string;
  readonly jobs?: AgentJobs;
  /** Why there are no jobs for a peer that should have answered. */
  readonly error?: string;
}

export interface FarmView {
  readonly now: number;
  readonly agents: readonly FarmAgent[];
}

/** How long a peer gets to answer; the page asks again in a second or two anyway. */
const PEER_TIMEOUT_MS = 2000;
/** A peer's answer beyond this is refused: 1,000 finished jobs take well under 1 MiB. */
const MAX_PEER_ANSWER_BYTES = 8 << 20;

async function readCapped(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`answer larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function askPeer(statsUrl: string, since: number | undefined): Promise<AgentJobs> {
  const url = new URL("/api/jobs", statsUrl);
  if (since !== undefined) url.searchParams.set("since", String(since));
  const response = await fetch(url, { signal: AbortSignal.timeout(PEER_TIMEOUT_MS), redirect: "error" });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  const answer = peerAnswer(JSON.parse(await readCapped(response, MAX_PEER_ANSWER_BYTES)));
  if (answer === undefined) throw new Error("not an /api/jobs answer");
  return answer;
}

/** Per agent, the time (in that agent's clock) after which its finished jobs are wanted. */
export type SinceFor = (agent: string) => number | undefined;

export async function farmView(own: AgentJobs, peers: PeerDirectory | undefined, since: SinceFor): Promise<FarmView> {
  const self: FarmAgent = { name: own.agent.name, state: own.agent.draining ? "draining" : "live", self: true, jobs: own };
  const others = (peers?.list() ?? []).filter((peer) => !peer.self && peer.name !== own.agent.name);
  const answers = await Promise.all(
    others.map(async (peer): Promise<FarmAgent> => {
      const base = { name: peer.name, state: peer.state, self: false, statsUrl: peer.statsUrl };
      if (peer.state === "lost") return base;
      try {
        return { ...base, jobs: await askPeer(peer.statsUrl, since(peer.name)) };
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        return { ...base, error: timedOut ? `no answer in ${PEER_TIMEOUT_MS} ms` : error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return { now: own.agent.now, agents: [self, ...answers.sort((a, b) => a.name.localeCompare(b.name))] };
}
