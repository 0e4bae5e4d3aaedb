/**
 * Debian's C distccd on a loopback port, the reference the agent is compared against (the probe
 * tests, the hostile-compile report). Started in the foreground so stopping it ends every worker.
 */
import { freePort } from "./agent.ts";

export interface CDistccd {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

async function waitForPort(port: number): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

/** `args` follow the listen, port and allow options; resolves once the port accepts. */
export async function startCDistccd(args: readonly string[], env: Record<string, string | undefined>): Promise<CDistccd> {
  const port = freePort();
  const proc = Bun.spawn(
    ["distccd", "--daemon", "--no-detach", "--listen", "127.0.0.1", "--port", String(port), "--allow", "127.0.0.1", ...args],
    {
      env,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  await waitForPort(port);
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
