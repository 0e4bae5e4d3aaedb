/**
 * @module The compiler watchdog: a copy of the agent started with DISTCCD_COMPILER_WATCHDOG=1,
 * which kills every compiler process group it has been told of once the agent is gone. entry.ts
 * (and main.ts) import this module first, so the watchdog runs before the server's modules are
 * loaded and costs a bare runtime (about 4 MiB of its own memory).
 *
 * It reads `+PGID` and `-PGID` lines on stdin, a pipe only the agent holds. End of file means
 * the agent died (even by SIGKILL) or exited: it SIGKILLs the groups still listed and exits, so
 * it never outlives its agent. It ignores the signals a terminal or a drain sends, which the
 * agent answers itself.
 */

export const WATCHDOG_ENV = "DISTCCD_COMPILER_WATCHDOG";

async function watch(): Promise<never> {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) process.on(signal, () => {});
  const groups = new Set<number>();
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Bun.stdin.stream()) {
    const lines = (pending + decoder.decode(chunk, { stream: true })).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const group = Number(line.slice(1));
      if (!Number.isInteger(group) || group <= 1) continue;
      if (line.startsWith("+")) groups.add(group);
      else groups.delete(group);
    }
  }
  for (const group of groups) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  process.exit(0);
}

if (process.env[WATCHDOG_ENV] === "1") await watch();
