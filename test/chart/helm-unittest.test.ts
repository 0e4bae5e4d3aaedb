/**
 * chart/tests/*_test.yaml are helm-unittest suites, run in CI by the plugin (`helm unittest
 * chart`). The plugin cannot be installed here, so every suite is checked as far as it can be
 * without it: its format against suite-schema.json, its templates, its values against
 * values.schema.json, and every assertion against what our pinned Helm 3 and Helm 4 render
 * (test/chart/unittest), so a suite that would fail in CI fails here first.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { CHART, HELM_VERSIONS, helm, ROOT } from "../helpers/helm.ts";
import { expectsFailure, jobValues, renderJob, runJob } from "./unittest/job.ts";
import { compileSchema, errorLines } from "./unittest/json-schema.ts";
import { selectTemplates } from "./unittest/render.ts";
import { formatErrors, readSuites, suiteDocuments } from "./unittest/suite.ts";
import { coalesce, type Values } from "./unittest/values.ts";

const TESTS = join(CHART, "tests");
const FILES = readdirSync(TESTS)
  .filter((name) => name.endsWith("_test.yaml"))
  .sort();

const SCHEMA_ERROR = "values don't meet the specifications of the schema";
const DEFAULTS = parse(readFileSync(join(CHART, "values.yaml"), "utf8")) as Values;
const validateValues = compileSchema(JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")));

test("chart/tests holds a suite for each template a user relies on", () => {
  expect(FILES).toEqual(
    expect.arrayContaining([
      "configmap_test.yaml",
      "daemonset_test.yaml",
      "defaults_test.yaml",
      "networkpolicy_test.yaml",
      "notes_test.yaml",
      "schema_test.yaml",
      "service-headless_test.yaml",
      "service_test.yaml",
      "servicemonitor_test.yaml",
      "test-connection_test.yaml",
    ]),
  );
});

describe.each(FILES)("%s", (name) => {
  const file = join(TESTS, name);
  const suites = readSuites(file);

  test("is in helm-unittest's test-file format", () => {
    const documents = suiteDocuments(readFileSync(file, "utf8"));
    expect(documents.length).toBeGreaterThan(0);
    expect(documents.map(formatErrors)).toEqual(documents.map(() => []));
  });

  test("names templates the chart has", () => {
    for (const suite of suites) {
      const named = suite.tests.flatMap((job) =>
        [job.template ?? [], job.templates ?? [], job.asserts.map((a) => a.template ?? [])].flat(2),
      );
      for (const template of [...suite.templates, ...named]) {
        expect({ template, matches: selectTemplates([template], []).length > 0 }).toEqual({ template, matches: true });
      }
    }
  });

  test("sets only values the chart's schema accepts, except where a test expects the failure", () => {
    for (const suite of suites) {
      for (const job of suite.tests.filter((j) => !expectsFailure(j))) {
        const valid = validateValues(coalesce(jobValues(suite, job), DEFAULTS));
        expect({ it: job.it, errors: valid ? [] : errorLines(validateValues) }).toEqual({ it: job.it, errors: [] });
      }
    }
  });

  test("where a test expects a failure, the schema refuses its values exactly when Helm does", () => {
    for (const suite of suites) {
      for (const job of suite.tests.filter(expectsFailure)) {
        const result = renderJob(suite, job, 4);
        const helmRefuses = result.kind === "error" && result.message.startsWith(SCHEMA_ERROR);
        const ajvRefuses = !validateValues(coalesce(jobValues(suite, job), DEFAULTS));
        expect({ it: job.it, ajvRefuses }).toEqual({ it: job.it, ajvRefuses: helmRefuses });
      }
    }
  });

  describe.each(HELM_VERSIONS)("Helm %d", (version) => {
    const jobs = suites.flatMap((suite) => suite.tests.map((job) => ({ suite, job })));
    test.each(jobs.map(({ suite, job }) => [`${suite.suite}: ${job.it}`, suite, job] as const))("%s", (_name, suite, job) => {
      expect(runJob(suite, job, version)).toEqual([]);
    });
  });
});

describe.each(HELM_VERSIONS)("helm package with Helm %d", (version) => {
  test("leaves the suites out of the chart and keeps the helm test pod", () => {
    const out = mkdtempSync(join(tmpdir(), "package-"));
    expect(helm(version, ["package", CHART, "--destination", out]).exitCode).toBe(0);
    const archive = readdirSync(out).find((f) => f.endsWith(".tgz")) ?? "";
    const list = Bun.spawnSync(["tar", "-tzf", join(out, archive)])
      .stdout.toString()
      .split("\n");
    expect(list.filter((entry) => entry.startsWith("distcc/tests/"))).toEqual([]);
    expect(list).toContain("distcc/templates/tests/test-connection.yaml");
    expect(list).toContain("distcc/values.schema.json");
  });
});

test("the suites pass yamllint with the chart's lint config", () => {
  const run = Bun.spawnSync(["yamllint", "--strict", "-c", "ci/lintconf.yaml", "chart/tests"], { cwd: ROOT });
  expect({ exitCode: run.exitCode, output: run.stdout.toString() }).toEqual({ exitCode: 0, output: "" });
});

test("CI runs the suites with a pinned helm-unittest plugin on both Helm versions", () => {
  interface Job {
    strategy: { matrix: { helm: string[] } };
    env?: Record<string, string>;
    steps: { run?: string }[];
  }
  const ci = parse(readFileSync(join(ROOT, ".github/workflows/ci.yml"), "utf8")) as { jobs: Record<string, Job> };
  const job = ci.jobs["helm-unittest"];
  expect(job?.strategy.matrix.helm).toEqual(ci.jobs.kind?.strategy.matrix.helm);
  expect(job?.strategy.matrix.helm.map((v) => v.split(".")[0])).toEqual(["v3", "v4"]);
  expect(job?.env?.HELM_UNITTEST_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
  const script = job?.steps.map((step) => step.run ?? "").join("\n") ?? "";
  expect(script).toContain('helm plugin install https://github.com/helm-unittest/helm-unittest.git --version "$HELM_UNITTEST_VERSION"');
  // Helm 4 refuses an unsigned (git) plugin without --verify=false; Helm 3 refuses the flag.
  expect(script).toContain("== v4.* ]]; then verify=(--verify=false); fi");
  expect(script).toContain("helm unittest --strict chart");
});
