/**
 * The hostile-compile cases against our agent (confined, and with --sandbox off) and Debian's C
 * distccd, printed as the README's table: data on what each lets through, not a test. The C
 * server runs with --enable-tcp-insecure, since its whitelist is /usr/lib/distcc, which names
 * none of the test's compilers. Run: `bun agent/test/sandbox/hostile-report.ts` (after make build).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { sharedTempDir, startAgent } from "../helpers/agent.ts";
import { startCDistccd } from "../helpers/c-distccd.ts";
import { HOSTILE_CASES, type HostileOutcome, hostileWorld, type Target } from "../helpers/hostile.ts";
import { toolchain } from "../helpers/toolchain.ts";

const world = hostileWorld();

async function startC(): Promise<Target & { stop(): Promise<void> }> {
  const tmpDir = sharedTempDir("c-distccd-tmp-");
  const server = await startCDistccd(
    [
      "--enable-tcp-insecure",
      "--log-file",
      join(tmpDir, "log"),
      // The token in an argument, as the agent has it in its whitelist's name (the /proc cases).
      "--pid-file",
      join(tmpDir, `pid-${world.token}`),
    ],
    {
      ...process.env,
      ...world.env,
      TMPDIR: tmpDir,
      DISTCCD_PATH: [world.wrapperBin, toolchain().bin, process.env.PATH].join(":"),
    },
  );
  return {
    port: server.port,
    pid: server.pid,
    tmpDir,
    async stop() {
      await server.stop();
      rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}

function verdict(outcome: HostileOutcome): string {
  const what = [
    outcome.leaked ? "leaked" : "",
    outcome.created.length > 0 ? `created ${outcome.created.join(", ")}` : "",
    outcome.connections > 0 ? "connected" : "",
  ].filter(Boolean);
  if (what.length > 0) return `**${what.join("; ")}**`;
  return /refused/.test(outcome.stderr) ? "refused" : "contained";
}

async function column(target: Target): Promise<string[]> {
  const cells: string[] = [];
  for (const hostile of HOSTILE_CASES) {
    const outcome = await hostile.run(world, target);
    for (const file of outcome.created) rmSync(join(world.outside, file), { force: true });
    cells.push(verdict(outcome));
  }
  return cells;
}

const agentOptions = (sandbox: string) => ({
  extraPath: world.wrapperBin,
  env: world.env,
  jobs: 2,
  args: ["--whitelist", world.whitelist, "--sandbox", sandbox],
});
const columns: string[][] = [];
for (const sandbox of ["auto", "off"]) {
  await using agent = await startAgent(agentOptions(sandbox));
  columns.push(await column(agent));
}
const c = await startC();
try {
  columns.push(await column(c));
} finally {
  await c.stop();
  world.stop();
}
console.log("| hostile request | ours (confined) | ours, --sandbox off (firewall only) | C distccd 3.4 |");
console.log("|---|---|---|---|");
HOSTILE_CASES.forEach((hostile, i) => {
  console.log(`| ${hostile.name} | ${columns.map((cells) => cells[i]).join(" | ")} |`);
});
