/**
 * @module What each whitelisted compiler is, as the distcc client tells compilers apart for
 * zeroconf: `-dumpmachine` and `-dumpversion` (the C server asks `cc` the same in gcc-id.c).
 * Asked once, in the background, when first needed (zeroconf at start-up, else the first
 * /status); /status and zeroconf publish the answers.
 */
import type { CompilerWhitelist } from "../compiler-whitelist.ts";

export interface CompilerIdentity {
  readonly name: string;
  /** Undefined when the compiler is not installed or did not answer. */
  readonly machine: string | undefined;
  readonly version: string | undefined;
}

/** A compiler that does not answer a -dump flag in this long has no identity. */
const ASK_TIMEOUT_MS = 10_000;

async function ask(path: string, flag: string, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let timer: Timer | undefined;
  try {
    // A group of its own: a wrapper's background children go with it, also on a timeout.
    proc = Bun.spawn([path, flag], {
      env: env as Record<string, string>,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
      detached: true,
    });
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, ASK_TIMEOUT_MS);
    });
    const answered = Promise.all([new Response(proc.stdout as ReadableStream).text(), proc.exited]);
    const result = await Promise.race([answered, timedOut]);
    if (result === undefined) return undefined;
    const [text, code] = result;
    // As the C server: the first word of the first line.
    const answer = text.split("\n")[0]?.trim().split(/\s/)[0];
    return code === 0 && answer ? answer : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    if (proc) killGroup(proc.pid);
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Gone already, as it should be.
  }
}

export async function identifyCompilers(
  whitelist: CompilerWhitelist,
  env: Readonly<Record<string, string | undefined>>,
): Promise<CompilerIdentity[]> {
  return await Promise.all(
    whitelist.names.map(async (name) => {
      const decision = whitelist.check(name);
      const path = decision.allowed ? decision.path : undefined;
      if (path === undefined) return { name, machine: undefined, version: undefined };
      const [machine, version] = await Promise.all([ask(path, "-dumpmachine", env), ask(path, "-dumpversion", env)]);
      return { name, machine, version };
    }),
  );
}

/**
 * The DNS-SD subtype label the distcc client browses for its compiler (gcc-id.c
 * `dcc_make_dnssd_subtype`): `<machine>--<version>`, lowercased, every other character `-`.
 */
export function zeroconfSubtype(identity: { machine: string; version: string }): string {
  const clean = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, "-");
  return `${clean(identity.machine)}--${clean(identity.version)}`;
}
