/**
 * The DaemonSet's command line must be one the agent accepts: the rendered args (ports moved to
 * free loopback ports, the allow list narrowed to loopback) run through the built agent, with
 * the ConfigMap's whitelist, and it serves a compile.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BINARY, freePort, sharedTempDir } from "../../agent/test/helpers/agent.ts";
import { compileRequest, exchange, parseReply } from "../../agent/test/helpers/tokens.ts";
import { GCC, toolchain } from "../../agent/test/helpers/toolchain.ts";
import { find, HELM_VERSIONS, render } from "../helpers/helm.ts";

/** The kubelet's expansion of the pod's env in the args (`$(NODE_IP)`, `$(POD_IP)`), here loopback. */
function expandPodEnv(args: string[]): string[] {
  return args.map((arg) => arg.replace(/\$\((NODE_IP|POD_IP)\)/g, "127.0.0.1"));
}

/** Replaces the value after each `flag` (the chart renders flags and values as separate args). */
function replaceValue(args: string[], flag: string, value: string): string[] {
  return args.map((arg, i) => (args[i - 1] === flag ? value : arg));
}

test.each(HELM_VERSIONS)("the default DaemonSet args (Helm %d) start the agent, which compiles", async (version) => {
  const objects = render(version);
  const rendered = find(objects, "DaemonSet").spec.template.spec.containers[0].args as string[];
  const port = freePort();
  const statsPort = freePort();
  let args = replaceValue(
    replaceValue(replaceValue(expandPodEnv(rendered), "--port", String(port)), "--stats-port", String(statsPort)),
    "--allow",
    "127.0.0.1",
  );
  // The headless Service's name exists only in a cluster: the agent's own stats port stands in.
  args = replaceValue(args, "--peers", `127.0.0.1:${statsPort}`);
  const dir = sharedTempDir("chart-args-");
  const whitelist = join(dir, "whitelist");
  writeFileSync(whitelist, find(objects, "ConfigMap").data?.whitelist ?? "", { mode: 0o644 });
  args = [...args, "--listen", "127.0.0.1", "--whitelist", whitelist];
  expect(rendered).toContain("--daemon");
  expect(rendered).toContain("--no-fork");
  const proc = Bun.spawn([AGENT_BINARY, ...args], {
    env: { ...process.env, PATH: `${toolchain().bin}:${process.env.PATH}`, TMPDIR: dir },
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${statsPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await Bun.sleep(50);
    }
    expect(ready).toBe(true);
    const reply = parseReply(await exchange(port, compileRequest(2, [GCC, "-c", "x.c", "-o", "x.o"], "int x;\n")));
    expect(reply.status).toBe(0);
  } finally {
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }
});
