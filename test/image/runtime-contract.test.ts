/**
 * The image's runtime contract, on this machine: the built agent started with exactly the
 * image's ENTRYPOINT+CMD (port moved to a free loopback port, allow narrowed to loopback), the
 * image's whitelist file, and the compilers under the image's names. The real distcc client
 * compiles C and C++ through it, and the programs run under qemu. The chart's defaults must agree
 * with the image on port, whitelist path, names and user.
 */
import { expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BINARY, freePort, sharedTempDir } from "../../agent/test/helpers/agent.ts";
import { distcc, run } from "../../agent/test/helpers/distcc.ts";
import { GCC, GXX, SYSROOT, toolchain } from "../../agent/test/helpers/toolchain.ts";
import { workspace } from "../../agent/test/helpers/workspace.ts";
import { imageCommand, imageWhitelist } from "../helpers/dockerfile.ts";
import { find, ROOT, render } from "../helpers/helm.ts";

test("the image's command line serves C and C++ compiles from the real client", async () => {
  const [entrypoint, ...cmd] = imageCommand();
  expect(entrypoint).toBe("/usr/bin/distccd");
  const port = freePort();
  const dir = sharedTempDir("image-contract-");
  const whitelist = join(dir, "whitelist");
  copyFileSync(join(ROOT, "image/whitelist"), whitelist);
  const args = [
    ...cmd.map((arg, i) => (cmd[i - 1] === "--allow" ? "127.0.0.1" : arg)),
    "--port",
    String(port),
    "--listen",
    "127.0.0.1",
    "--whitelist",
    whitelist,
  ];
  expect(args.slice(0, 5)).toEqual(["--daemon", "--no-fork", "--allow", "127.0.0.1", "--log-stderr"]);
  const agent = Bun.spawn([AGENT_BINARY, ...args], {
    env: { ...process.env, PATH: `${toolchain().bin}:${process.env.PATH}`, TMPDIR: dir },
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    let log = "";
    const reader = (async () => {
      for await (const chunk of agent.stderr) log += new TextDecoder().decode(chunk);
    })();
    for (let i = 0; i < 100 && !log.includes("listening on"); i++) await Bun.sleep(50);
    expect(log).toContain(`whitelisted ${GCC} -> `);
    expect(log).toContain(`whitelisted ${GXX} -> `);
    const project = workspace();
    const hosts = `127.0.0.1:${port},lzo`;
    for (const [compiler, source, object] of [
      [GCC, "src/main.c", "main.o"],
      [GCC, "src/geometry.c", "geometry.o"],
      [GXX, "src/shapes.cpp", "shapes.o"],
    ] as const) {
      const result = await distcc([compiler, "-O2", "-Iinclude", "-c", source, "-o", object], { hosts, cwd: project });
      expect(result).toMatchObject({ exitCode: 0 });
      expect(result.log).toContain("completed ok");
    }
    expect((await run([GCC, "main.o", "geometry.o", "-o", "prog"], project)).exitCode).toBe(0);
    expect((await run([GXX, "shapes.o", "-o", "shapes"], project)).exitCode).toBe(0);
    expect(await run(["qemu-ppc-static", "-L", SYSROOT, "./prog"], project)).toMatchObject({
      exitCode: 0,
      stdout: "manhattan=7 area=12 args=1\n",
    });
    expect(await run(["qemu-ppc-static", "-L", SYSROOT, "./shapes"], project)).toMatchObject({ exitCode: 0, stdout: "total area 30\n" });
    agent.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    await reader;
  } finally {
    agent.kill("SIGKILL");
  }
});

test("the chart's defaults and the image agree on port, whitelist path, compilers and user", () => {
  const objects = render(4);
  const daemonSet = find(objects, "DaemonSet").spec.template.spec;
  const args = daemonSet.containers[0].args as string[];
  const image = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  // The image's CMD has no --port: the agent's default, 3632, which the chart passes explicitly.
  expect(imageCommand()).not.toContain("--port");
  expect(args[args.indexOf("--port") + 1]).toBe("3632");
  expect(image).toContain("EXPOSE 3632 3633");
  expect(args[args.indexOf("--stats-port") + 1]).toBe("3633");
  const mount = daemonSet.containers[0].volumeMounts.find((m: { name: string }) => m.name === "whitelist");
  expect(mount.mountPath).toBe("/usr/lib/distcc/whitelist");
  expect(image).toContain("COPY image/whitelist /out/usr/lib/distcc/whitelist");
  const chartWhitelist = (find(objects, "ConfigMap").data?.whitelist ?? "").split("\n").filter((line) => line && !line.startsWith("#"));
  expect(chartWhitelist).toEqual(imageWhitelist());
  expect(daemonSet.securityContext.runAsUser).toBe(3632);
  expect(image).toContain("USER 3632:3632");
  expect(args.slice(0, 3)).toEqual(["--daemon", "--no-fork", "--log-stderr"]);
});
