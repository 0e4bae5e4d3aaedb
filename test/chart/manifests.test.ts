/**
 * What ships beside the chart: the plain manifests must be exactly what `make manifests`
 * renders (with either Helm), all YAML must pass yamllint with ci/lintconf.yaml, and every value
 * must be documented with a `# --` comment.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HELM_VERSIONS, helmBinary, ROOT } from "../helpers/helm.ts";

test.each(HELM_VERSIONS)("manifests/ is what `make manifests` renders with Helm %d", (version) => {
  const out = mkdtempSync(join(tmpdir(), "manifests-"));
  const run = Bun.spawnSync(["scripts/render-manifests.sh", helmBinary(version), out], { cwd: ROOT });
  expect(run.exitCode).toBe(0);
  const names = readdirSync(join(ROOT, "manifests")).sort();
  expect(names).toEqual(["distcc-deploy-nodePort.yml", "distcc-ds.yaml", "distcc-lb.yaml", "distcc-nodeport.yaml"]);
  for (const name of names) {
    expect({ name, text: readFileSync(join(out, name), "utf8") }).toEqual({
      name,
      text: readFileSync(join(ROOT, "manifests", name), "utf8"),
    });
  }
});

test("the plain manifests hold the objects their names promise", () => {
  const kinds = (name: string) => [...readFileSync(join(ROOT, "manifests", name), "utf8").matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
  expect(kinds("distcc-ds.yaml")).toEqual(["ServiceAccount", "ConfigMap", "DaemonSet"]);
  expect(kinds("distcc-nodeport.yaml")).toEqual(["Service"]);
  expect(kinds("distcc-lb.yaml")).toEqual(["Service"]);
  expect(kinds("distcc-deploy-nodePort.yml")).toEqual(["ServiceAccount", "ConfigMap", "DaemonSet", "Service"]);
  expect(readFileSync(join(ROOT, "manifests/distcc-lb.yaml"), "utf8")).toContain("type: LoadBalancer");
  expect(readFileSync(join(ROOT, "manifests/distcc-nodeport.yaml"), "utf8")).toContain("nodePort: 30362");
});

test("yamllint passes on the chart's YAML, the CI config and scenarios, the manifests and the workflows", () => {
  const run = Bun.spawnSync(
    ["yamllint", "--strict", "-c", "ci/lintconf.yaml", "chart/Chart.yaml", "chart/values.yaml", "ci", "manifests", ".github/workflows"],
    { cwd: ROOT },
  );
  expect({ exitCode: run.exitCode, output: run.stdout.toString() }).toEqual({ exitCode: 0, output: "" });
});

test("every value in values.yaml is documented with a `# --` comment", () => {
  const lines = readFileSync(join(ROOT, "chart/values.yaml"), "utf8").split("\n");
  const undocumented: string[] = [];
  // Keys inside a documented value (a toleration's fields, resources.requests.cpu) are covered by it.
  const ancestors: { indent: number; documented: boolean }[] = [];
  for (const [index, line] of lines.entries()) {
    const key = line.match(/^(\s*)(- )?([\w.-]+):(.*)$/);
    if (!key) continue;
    const indent = (key[1] ?? "").length + (key[2] ?? "").length;
    while (ancestors.length > 0 && (ancestors.at(-1)?.indent ?? 0) >= indent) ancestors.pop();
    let documented = false;
    for (let i = index - 1; i >= 0 && (lines[i] ?? "").trim().startsWith("#"); i--) {
      if ((lines[i] ?? "").trim().startsWith("# --")) documented = true;
    }
    const covered = documented || ancestors.some((a) => a.documented);
    const next = lines[index + 1] ?? "";
    const isParent = (key[4] ?? "").trim() === "" && next.startsWith(`${" ".repeat(indent)}  `) && !next.trim().startsWith("-");
    if (!covered && !isParent) undocumented.push(`${index + 1}: ${key[3]}`);
    ancestors.push({ indent, documented: covered });
  }
  expect(undocumented).toEqual([]);
});
