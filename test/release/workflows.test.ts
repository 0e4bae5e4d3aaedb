/**
 * The GitHub workflows cannot run here (no hosted runners, no container engine, no cluster), so
 * everything about them that can be checked is: the workflow schema (action-validator), every
 * shell step (shellcheck), the make targets they call, SHA-pinned actions, least-privilege
 * permissions, the names they publish under, and the release's version check itself.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../helpers/helm.ts";
import { WORKFLOW_FILES as files, runSteps, WORKFLOWS, workflow } from "../helpers/workflows.ts";

test("the project ships a CI and a release workflow", () => {
  expect(files.sort()).toEqual(["ci.yml", "release.yml"]);
});

describe.each(files)("%s", (name) => {
  test("validates against the GitHub workflow schema", () => {
    const run = Bun.spawnSync([join(ROOT, "node_modules/.bin/action-validator"), join(WORKFLOWS, name)]);
    expect({ exitCode: run.exitCode, output: run.stdout.toString() + run.stderr.toString() }).toEqual({ exitCode: 0, output: "" });
  });

  test("every shell step passes shellcheck", () => {
    const dir = mkdtempSync(join(tmpdir(), "shellcheck-"));
    for (const [index, step] of runSteps(name).entries()) {
      // Expressions are expanded by GitHub before the shell runs; stand one variable in for each.
      const script = (step.run ?? "").replace(/\$\{\{[^}]*\}\}/g, "$GITHUB_EXPRESSION");
      const file = join(dir, `step${index}.sh`);
      writeFileSync(file, `#!/usr/bin/env bash\nset -eo pipefail\n${script}`);
      const check = Bun.spawnSync(["shellcheck", "--shell=bash", "--severity=style", file]);
      expect({ step: step.name ?? step.run, output: check.stdout.toString() }).toEqual({ step: step.name ?? step.run, output: "" });
    }
  });

  test("every make target it calls exists", () => {
    // `make` as a command: at the start of a line or after a separator, not a package named "make".
    const targets = runSteps(name).flatMap((step) =>
      [...(step.run ?? "").matchAll(/(?:^|[;&|]|\bthen|\bdo)\s*make\s+([a-z][\w-]*)/gm)].map((m) => m[1] as string),
    );
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      const dryRun = Bun.spawnSync(["make", "-n", target], { cwd: ROOT });
      expect({ target, exitCode: dryRun.exitCode }).toEqual({ target, exitCode: 0 });
    }
  });

  test("every third-party action is pinned to a full commit SHA, with its version beside it", () => {
    const uses = readFileSync(join(WORKFLOWS, name), "utf8")
      .split("\n")
      .filter((line) => /^\s*(-\s+)?uses:/.test(line));
    expect(uses.length).toBeGreaterThan(0);
    for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  test("permissions are declared for the workflow and for each job", () => {
    const parsed = workflow(name);
    expect(parsed.permissions).toBeDefined();
    for (const [jobName, job] of Object.entries(parsed.jobs))
      expect({ job: jobName, declared: job.permissions !== undefined }).toEqual({ job: jobName, declared: true });
  });
});

test("CI runs the README's test command, and installs the chart with both Helm versions", () => {
  const ci = workflow("ci.yml");
  expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("make test");
  expect(ci.jobs.test?.steps.some((step) => step.run === "make test")).toBe(true);
  const kind = readFileSync(join(WORKFLOWS, "ci.yml"), "utf8");
  expect(kind).toContain("helm: [v3.17.3, v4.1.4]");
  expect(kind).toContain("ct lint-and-install --config ci/ct.yaml");
  expect(kind).toContain("distcc powerpc-unknown-linux-gnu-gcc -c hello.c");
  expect(kind).toContain("distcc powerpc-unknown-linux-gnu-gcc -c hello.c -o hello-lb.o");
});

test("only the jobs that publish may write, each only what it publishes", () => {
  const release = workflow("release.yml");
  expect(release.permissions).toEqual({});
  expect(release.jobs.check?.permissions).toEqual({ contents: "read" });
  expect(release.jobs.image?.permissions).toEqual({ contents: "read", packages: "write" });
  expect(release.jobs.manifest?.permissions).toEqual({ contents: "read", packages: "write" });
  expect(release.jobs.chart?.permissions).toEqual({ contents: "read", packages: "write" });
  expect(release.jobs.binaries?.permissions).toEqual({ contents: "write" });
  expect(workflow("ci.yml").permissions).toEqual({ contents: "read" });
});

test("the release publishes under the chart's image and chart names", () => {
  const text = readFileSync(join(WORKFLOWS, "release.yml"), "utf8");
  const values = parse(readFileSync(join(ROOT, "chart/values.yaml"), "utf8")) as { image: { registry: string; repository: string } };
  const chart = parse(readFileSync(join(ROOT, "chart/Chart.yaml"), "utf8")) as { name: string };
  const imageName = values.image.repository.split("/").pop();
  expect(values.image.registry).toBe("ghcr.io");
  expect(text).toContain(`echo "name=ghcr.io/$owner/${imageName}"`);
  expect(text).toContain(`helm push "$RUNNER_TEMP/${chart.name}-\${GITHUB_REF_NAME#v}.tgz" "oci://ghcr.io/$owner/charts"`);
  expect(text).toContain("provenance: mode=max");
  expect(text).toContain("sbom: true");
  expect(text).toContain("sha256sum distccd-linux-* > SHA256SUMS");
  expect(text).toContain('scripts/check-release-version.sh "$GITHUB_REF_NAME"');
});

describe("the release's version check", () => {
  // Between releases the chart's version may move ahead of package.json (it is bumped with every
  // chart change); a release sets all three to the tag. So the script runs on a copy of the
  // repository's layout holding the versions each case needs, next to the real script.
  function tree(versions: { package: string; chart: string; app: string }): string {
    const dir = mkdtempSync(join(tmpdir(), "release-check-"));
    mkdirSync(join(dir, "scripts"));
    mkdirSync(join(dir, "chart"));
    copyFileSync(join(ROOT, "scripts/check-release-version.sh"), join(dir, "scripts/check-release-version.sh"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "distcc-agent", version: versions.package }));
    const chart = readFileSync(join(ROOT, "chart/Chart.yaml"), "utf8")
      .replace(/^version: .*$/m, `version: ${versions.chart}`)
      .replace(/^appVersion: .*$/m, `appVersion: "${versions.app}"`);
    writeFileSync(join(dir, "chart/Chart.yaml"), chart);
    return dir;
  }
  const check = (dir: string, tag: string) => {
    const run = Bun.spawnSync([join(dir, "scripts/check-release-version.sh"), tag], { cwd: dir });
    return { exitCode: run.exitCode, output: run.stdout.toString() + run.stderr.toString() };
  };
  const aligned = tree({ package: "1.2.3", chart: "1.2.3", app: "1.2.3" });

  test("a tag matching package.json and Chart.yaml passes", () => {
    expect(check(aligned, "v1.2.3")).toEqual({ exitCode: 0, output: "tag v1.2.3 matches package.json and chart/Chart.yaml\n" });
    expect(check(tree({ package: "2.0.0-rc.1", chart: "2.0.0-rc.1", app: "2.0.0-rc.1" }), "v2.0.0-rc.1").exitCode).toBe(0);
  });

  test("a mismatching tag fails, naming each version that differs", () => {
    const result = check(aligned, "v99.0.0");
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain("package.json version is 1.2.3, but tag v99.0.0 releases 99.0.0");
    expect(result.output).toContain("chart/Chart.yaml version is 1.2.3, but tag v99.0.0 releases 99.0.0");
    expect(result.output).toContain("chart/Chart.yaml appVersion is 1.2.3, but tag v99.0.0 releases 99.0.0");
  });

  test("a chart bumped ahead of package.json cannot be released until they agree", () => {
    expect(check(tree({ package: "1.2.3", chart: "1.2.4", app: "1.2.3" }), "v1.2.3")).toEqual({
      exitCode: 1,
      output: "chart/Chart.yaml version is 1.2.4, but tag v1.2.3 releases 1.2.3\n",
    });
  });

  test.each(["0.1.0", "v1", "release-1.0.0", "v1.0"])("%s is not a release tag", (tag) => {
    expect(check(aligned, tag)).toMatchObject({ exitCode: 1, output: expect.stringContaining("is not vMAJOR.MINOR.PATCH") });
  });
});

test("the repository's shell scripts pass shellcheck too", () => {
  const scripts = [
    "scripts/check-release-version.sh",
    "scripts/render-manifests.sh",
    "scripts/local-whitelist.sh",
    "ci/repair-distcc-pump.sh",
    "ci/upstream-testsuite.sh",
    "ci/enable-deb-src.sh",
    ".ci/run",
  ];
  const run = Bun.spawnSync(["shellcheck", "--severity=style", ...scripts], { cwd: ROOT });
  expect({ exitCode: run.exitCode, output: run.stdout.toString() }).toEqual({ exitCode: 0, output: "" });
});
