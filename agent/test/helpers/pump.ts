/**
 * One distcc-pump include server for a whole test file (`distcc-pump --startup`), and the
 * environment that sends a client's compiles through it in protocol 3. With
 * DISTCC_TESTING_INCLUDE_SERVER=1 the client exits instead of silently falling back to
 * protocol 2, so a passing test really used pump mode.
 */
import { toolchain } from "./toolchain.ts";

export interface IncludeServer extends AsyncDisposable {
  /** Merge into the client's environment. */
  readonly env: Readonly<Record<string, string>>;
}

export async function startIncludeServer(hosts: string): Promise<IncludeServer> {
  const env = { ...process.env, DISTCC_HOSTS: hosts, PATH: `${toolchain().bin}:${process.env.PATH}` };
  const startup = Bun.spawn(["distcc-pump", "--startup"], { env, stdout: "pipe", stderr: "pipe" });
  const [text, errors, code] = await Promise.all([
    new Response(startup.stdout).text(),
    new Response(startup.stderr).text(),
    startup.exited,
  ]);
  if (code !== 0) throw new Error(`distcc-pump --startup failed (${code}): ${errors}`);
  const vars: Record<string, string> = {};
  for (const match of text.matchAll(/^export (INCLUDE_SERVER_\w+)='([^']*)'$/gm)) vars[match[1] as string] = match[2] as string;
  if (!vars.INCLUDE_SERVER_PORT) throw new Error(`no INCLUDE_SERVER_PORT in:\n${text}`);
  return {
    env: { ...vars, DISTCC_TESTING_INCLUDE_SERVER: "1" },
    async [Symbol.asyncDispose]() {
      await Bun.spawn(["distcc-pump", "--shutdown"], { env: { ...env, ...vars }, stdout: "ignore", stderr: "ignore" }).exited;
    },
  };
}
