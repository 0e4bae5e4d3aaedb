/**
 * The distcc client's environment for a benchmark build: its hosts, its own state dir, no local
 * fallback or retry (a failure must show, not be compiled again locally), and the include
 * server's variables in pump mode.
 */
export function clientEnv(hosts: string, distccDir: string, pump?: { env: Record<string, string> }): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    DISTCC_HOSTS: hosts,
    DISTCC_DIR: distccDir,
    DISTCC_FALLBACK: "0",
    DISTCC_SKIP_LOCAL_RETRY: "1",
    ...pump?.env,
  };
}
