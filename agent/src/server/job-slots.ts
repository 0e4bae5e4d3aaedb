/**
 * @module At most `--jobs` compilers at once: later jobs wait in arrival order, without
 * blocking the event loop or the connections still receiving their requests.
 */
import { AgentError } from "../errors.ts";

export class JobSlots {
  private running = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(readonly size: number) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new AgentError("E_ABORTED", "client went away while queued"));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.grant();
    };
    if (this.running < this.size) {
      this.running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          this.running++;
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new AgentError("E_ABORTED", "client went away while queued"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
    });
  }
}
