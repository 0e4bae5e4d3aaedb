/**
 * Bounded waiting for tests: poll a condition every 50 ms for at most a set time, and ask
 * whether a process still exists. Every wait in the tests goes through here, so none is
 * open-ended.
 */

/** Polls `condition` every 50 ms, at most `ms`; throws naming `what` when time runs out. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
