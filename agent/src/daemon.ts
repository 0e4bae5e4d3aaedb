/**
 * @module Detaching (`--daemon` without `--no-detach`/`--no-fork`). Bun cannot fork, so the
 * agent starts itself again in a new session and waits until that copy has bound its port:
 * the C server's promise that the daemon is listening when the command returns.
 */
import { writeSync } from "node:fs";

/** Set in the environment of the copy that stays in the background. */
export const DETACHED_CHILD_ENV = "DISTCCD_DETACHED_CHILD";

/** How to run this same program again: the compiled binary alone, or bun with the script. */
export function selfCommand(): string[] {
  const script = process.argv[1] ?? "";
  return script.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, script];
}

/** The child keeps its stdout open for life, so read up to the first newline only. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.split("\n")[0] ?? "";
}

export type DetachResult = { ok: true; pid: number } | { ok: false; exitCode: number; message: string };

/** Starts the background copy and waits for its one-line report on its stdout. */
export async function startDetached(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<DetachResult> {
  const child = Bun.spawn([...selfCommand(), ...argv], {
    env: { ...env, [DETACHED_CHILD_ENV]: "1" } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
    detached: true,
  });
  const report = await firstLine(child.stdout);
  if (report.startsWith("ready")) {
    child.unref();
    return { ok: true, pid: child.pid };
  }
  const exitCode = await child.exited;
  const match = report.match(/^error (\d+) (.*)$/);
  if (match) return { ok: false, exitCode: Number(match[1]), message: match[2] as string };
  return { ok: false, exitCode: exitCode === 0 ? 100 : exitCode, message: `the background server exited with status ${exitCode}` };
}

/** In the background copy: tell the waiting parent how start-up went, then close the pipe. */
export function reportToParent(line: string): void {
  try {
    writeSync(1, `${line}\n`);
  } catch {
    // The parent is gone; nothing to tell.
  }
}
