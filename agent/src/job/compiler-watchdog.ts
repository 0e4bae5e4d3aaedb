/**
 * @module The agent's side of the compiler watchdog (watchdog-mode.ts): starts it on the first
 * compile, tells it each compiler's process group as the compiler starts and ends, and starts
 * it again should it die. Wraps the spawn seam, so whatever runs the compiler is covered, and
 * with it the compiler's own children (cc1, as, a wrapper's sleep), which a parent-death
 * signal on the compiler alone would miss.
 */
import type { Subprocess } from "bun";
import { selfCommand } from "../daemon.ts";
import type { Logger } from "../log.ts";
import { WATCHDOG_ENV } from "../watchdog-mode.ts";
import type { RunningProcess, SpawnFn } from "./spawn.ts";

/** How long the end of a group may wait to be told, to share a write with the next start. */
const END_BATCH_MS = 100;
/** A watchdog that dies is started again after this long, not in a tight loop. */
const RESTART_DELAY_MS = 1000;

export class CompilerWatchdog {
  private readonly groups = new Set<number>();
  private process: Subprocess<"pipe", "ignore", "inherit"> | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** `-PGID` lines not yet written (endGroup). */
  private ended = "";
  private endTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly log: Logger) {}

  /** `spawn`, with every compiler it starts watched until its group is gone. */
  guard(spawn: SpawnFn): SpawnFn {
    const watch = (proc: RunningProcess) => {
      this.groups.add(proc.pid);
      this.send(`+${proc.pid}`);
      void proc.exited.then(() => {
        // What the compiler left behind in its group (a daemonised child) goes with it.
        proc.killGroup("SIGKILL");
        this.groups.delete(proc.pid);
        this.endGroup(proc.pid);
      });
      return proc;
    };
    return (request) => {
      const started = spawn(request);
      return started instanceof Promise ? started.then(watch) : watch(started);
    };
  }

  /**
   * A group that ended is told with the next start, or within END_BATCH_MS: one write and one
   * wake-up of the watchdog per job instead of two. Its number cannot lead another group that
   * soon (pids are handed out in order), so a watchdog that still lists it kills nothing else.
   */
  private endGroup(pid: number): void {
    this.ended += `-${pid}\n`;
    this.endTimer ??= setTimeout(() => {
      this.endTimer = undefined;
      this.send();
    }, END_BATCH_MS);
    this.endTimer.unref();
  }

  /** Writes the ends held back, then `line` if there is one. */
  private send(line?: string): void {
    const watchdog = this.process ?? this.start();
    if (watchdog === undefined) return;
    const text = line === undefined ? this.ended : `${this.ended}${line}\n`;
    this.ended = "";
    if (text === "") return;
    try {
      watchdog.stdin.write(text);
      watchdog.stdin.flush();
    } catch {
      // It died; its exit handler starts another and tells it the groups.
    }
  }

  private start(): Subprocess<"pipe", "ignore", "inherit"> | undefined {
    if (this.restartTimer !== undefined) return undefined;
    let watchdog: Subprocess<"pipe", "ignore", "inherit">;
    try {
      watchdog = Bun.spawn(selfCommand(), {
        env: { ...process.env, [WATCHDOG_ENV]: "1" },
        stdin: "pipe",
        stdout: "ignore",
        stderr: "inherit",
        // Its own session: a signal to the agent's process group does not reach it.
        detached: true,
      });
    } catch (error) {
      this.log.error("dcc_watchdog", `cannot start the compiler watchdog: ${(error as Error).message}`);
      this.scheduleRestart();
      return undefined;
    }
    watchdog.unref();
    this.process = watchdog;
    void watchdog.exited.then((code) => {
      if (this.process !== watchdog) return;
      this.process = undefined;
      this.log.error("dcc_watchdog", `the compiler watchdog exited (status ${code}); starting another`);
      this.scheduleRestart();
    });
    for (const group of this.groups) watchdog.stdin.write(`+${group}\n`);
    return watchdog;
  }

  private scheduleRestart(): void {
    this.restartTimer ??= setTimeout(() => {
      this.restartTimer = undefined;
      const watchdog = this.start();
      watchdog?.stdin.flush();
    }, RESTART_DELAY_MS);
    this.restartTimer.unref();
  }
}
