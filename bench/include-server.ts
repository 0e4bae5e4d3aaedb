/**
 * distcc-pump's include server for a pump-mode workload: started for `hosts`, its variables
 * handed to the client's environment, shut down afterwards.
 */
export function includeServer(hosts: string): { env: Record<string, string>; stop: () => Promise<void> } {
  const startup = Bun.spawnSync(["distcc-pump", "--startup"], { env: { ...process.env, DISTCC_HOSTS: hosts } });
  if (startup.exitCode !== 0) throw new Error(`distcc-pump --startup: ${startup.stderr}`);
  const vars: Record<string, string> = {};
  for (const match of startup.stdout.toString().matchAll(/^export (INCLUDE_SERVER_\w+)='([^']*)'$/gm))
    vars[match[1] as string] = match[2] as string;
  return {
    env: { ...vars, DISTCC_TESTING_INCLUDE_SERVER: "1" },
    stop: async () => {
      await Bun.spawn(["distcc-pump", "--shutdown"], { env: { ...process.env, ...vars }, stdout: "ignore", stderr: "ignore" }).exited;
    },
  };
}
