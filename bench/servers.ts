/**
 * The two servers the benchmark compares, started on loopback with the same --jobs and
 * compilers: our dist/distccd and Debian's C distccd. Also reads their CPU time (user+sys of
 * the server processes, compilers excluded) and our peak RSS from /proc.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../agent/test/helpers/agent.ts";

export interface Server {
  readonly name: ServerName;
  readonly port: number;
  readonly pid: number;
  /** Seconds of user+sys CPU used by the server's own processes so far. */
  cpuSeconds(): number;
  /** Resident, private (anonymous) resident and peak resident memory of the main process, in KiB. */
  memory(): { rss: number; anon: number; peak: number };
  stop(): Promise<void>;
}

/** Ours (confined, the default), ours with --sandbox off, and the C server. */
export type ServerName = "agent" | "agent-sandbox-off" | "c";

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/**
 * Nanoseconds on a CPU (user and system) of each thread of `pid`, from schedstat: exact, where
 * /proc/<pid>/stat counts 10 ms ticks, too coarse for one job. Keyed by thread id.
 */
function threadRuntimes(pid: number): Map<number, number> {
  const runtimes = new Map<number, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return runtimes;
  }
  for (const task of tasks) {
    try {
      runtimes.set(Number(task), Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]));
    } catch {
      // The thread or process ended between the two reads.
    }
  }
  return runtimes;
}

/** The process and its children named distccd (the C server's preforked workers). */
function serverPids(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = stat(Number(entry));
    if (fields && Number(fields[1]) === pid && comm(Number(entry)) === "distccd") pids.push(Number(entry));
  }
  return pids;
}

/** A process's name; undefined once it has exited (workers retire between the two reads). */
function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data() {},
        open(s) {
          s.end();
        },
      },
    }).then(
      () => true,
      () => false,
    );
    if (open) return;
    await Bun.sleep(25);
  }
  throw new Error(`nothing listens on ${port}`);
}

/**
 * Most of an idle agent's RSS is the executable's pages it maps, and how many one fault maps
 * depends on how the page cache holds the file: after `bun build` wrote it, or `cat` read it,
 * the same binary idles 5-7 MiB higher than when its own page faults bring it in from disk, as
 * on a node after a deploy. Dropping the file's cached pages first measures that cold start, the
 * same from run to run. GNU dd: `iflag=nocache count=0` asks the kernel to drop the whole file.
 */
function dropFromPageCache(file: string): void {
  Bun.spawnSync(["dd", `if=${file}`, "iflag=nocache", "count=0", "status=none"]);
}

/**
 * Reads a file through the page cache, so that pages the server maps later (code first run
 * under load) come from memory, not from disk in the middle of a timed run.
 */
export function readIntoPageCache(file: string): void {
  Bun.spawnSync(["cat", file], { stdout: "ignore" });
}

export async function startServer(
  name: ServerName,
  options: { jobs: number; compiler: string; work: string; agentBinary: string; env?: Record<string, string> },
): Promise<Server> {
  const ours = name !== "c";
  const port = freePort();
  const common = [
    "--daemon",
    "--no-detach",
    "--listen",
    "127.0.0.1",
    "--port",
    String(port),
    "--allow",
    "127.0.0.1",
    "--jobs",
    String(options.jobs),
    "--log-level",
    "warning",
  ];
  let cmd: string[];
  if (ours) {
    const whitelist = join(options.work, "whitelist");
    writeFileSync(whitelist, `${options.compiler}\n`, { mode: 0o644 });
    cmd = [options.agentBinary, ...common, "--log-stderr", "--whitelist", whitelist, "--sandbox", name === "agent" ? "auto" : "off"];
  } else {
    // Debian ships /usr/lib/distcc/<compiler>, the C server's masquerade whitelist.
    cmd = ["distccd", ...common, "--log-file", join(options.work, "c-distccd.log")];
  }
  if (ours) dropFromPageCache(options.agentBinary);
  const proc = Bun.spawn(cmd, {
    env: { ...process.env, TMPDIR: "/tmp", ...options.env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  const lastRuntime = new Map<number, number>();
  await waitForPort(port);
  return {
    name,
    port,
    pid: proc.pid,
    cpuSeconds() {
      // The C server's workers retire after 50 jobs and take their counts with them: keep the
      // last reading of every thread seen (the benchmark samples often during a run).
      for (const pid of serverPids(proc.pid)) for (const [tid, ns] of threadRuntimes(pid)) lastRuntime.set(tid, ns);
      let ns = 0;
      for (const value of lastRuntime.values()) ns += value;
      return ns / 1e9;
    },
    memory() {
      const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
      const kib = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0);
      return { rss: kib("VmRSS"), anon: kib("RssAnon"), peak: kib("VmHWM") };
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
