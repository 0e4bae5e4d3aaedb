/**
 * The two servers the benchmark compares, started on loopback with the same --jobs and
 * compilers: our dist/distccd and Debian's C distccd. Also reads their CPU time (user+sys of
 * the server processes, compilers excluded) and our peak RSS from /proc.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../agent/test/helpers/agent.ts";

export interface Server {
  readonly name: "agent" | "c";
  readonly port: number;
  readonly pid: number;
  /** Seconds of user+sys CPU used by the server's own processes so far. */
  cpuSeconds(): number;
  /** Resident and peak resident memory of the server's main process, in KiB. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

const TICKS = 100;

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
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

export async function startServer(
  name: "agent" | "c",
  options: { jobs: number; compiler: string; work: string; agentBinary: string },
): Promise<Server> {
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
  if (name === "agent") {
    const whitelist = join(options.work, "whitelist");
    writeFileSync(whitelist, `${options.compiler}\n`, { mode: 0o644 });
    cmd = [options.agentBinary, ...common, "--log-stderr", "--whitelist", whitelist];
  } else {
    // Debian ships /usr/lib/distcc/<compiler>, the C server's masquerade whitelist.
    cmd = ["distccd", ...common, "--log-file", join(options.work, "c-distccd.log")];
  }
  const proc = Bun.spawn(cmd, { env: { ...process.env, TMPDIR: "/tmp" }, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const lastTicks = new Map<number, number>();
  await waitForPort(port);
  return {
    name,
    port,
    pid: proc.pid,
    cpuSeconds() {
      // The C server's workers retire after 50 jobs and take their counts with them: keep the
      // last reading of every process seen (the benchmark samples often during a run).
      for (const pid of serverPids(proc.pid)) {
        const fields = stat(pid);
        if (fields) lastTicks.set(pid, Number(fields[11]) + Number(fields[12]));
      }
      let ticks = 0;
      for (const value of lastTicks.values()) ticks += value;
      return ticks / TICKS;
    },
    memory() {
      const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
      const kib = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0);
      return { rss: kib("VmRSS"), peak: kib("VmHWM") };
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
