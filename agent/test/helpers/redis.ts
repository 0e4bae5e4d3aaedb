/**
 * A real redis-server (Debian's) on a free loopback port, in its own temp dir, with nothing
 * persisted; stopped at the end of the test (`await using`). Tests pause it (SIGSTOP) and stop
 * it to see the agent carry on without it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient } from "bun";
import { freePort } from "./agent.ts";

export interface RedisServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** A client for the test's own reads and writes. */
  client(): RedisClient;
  pause(): void;
  resume(): void;
  /** Ends the server (the URL then refuses connections); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(options: { password?: string; hostname?: string } = {}): Promise<RedisServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), "redis-"));
  const auth = options.password !== undefined ? `:${options.password}@` : "";
  const url = `redis://${auth}${hostname}:${port}`;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const clients: RedisClient[] = [];
  const start = async () => {
    const args = ["--bind", hostname, "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"];
    if (options.password !== undefined) args.push("--requirepass", options.password);
    proc = Bun.spawn(["redis-server", ...args], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    for (let attempt = 0; attempt < 100; attempt++) {
      const probe = new RedisClient(url, { autoReconnect: false, connectionTimeout: 200 });
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await Bun.sleep(50);
      } finally {
        probe.close();
      }
    }
    throw new Error(`redis-server on port ${port} did not come up`);
  };
  const stop = async () => {
    if (proc === undefined) return;
    proc.kill("SIGCONT");
    proc.kill("SIGKILL");
    await proc.exited;
    proc = undefined;
  };
  await start();
  return {
    url,
    port,
    client() {
      const client = new RedisClient(url);
      clients.push(client);
      return client;
    },
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
    stop,
    start,
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
