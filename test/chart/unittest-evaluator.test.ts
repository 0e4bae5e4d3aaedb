/**
 * The local helm-unittest runner (test/chart/unittest) must fail what the plugin fails: each
 * wrong assertion below is reported, and its path syntax, `set` paths, value merging and the
 * test-file schema behave as helm-unittest documents them.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CHART, renderNotes } from "../helpers/helm.ts";
import { runJob } from "./unittest/job.ts";
import { RAW, render } from "./unittest/render.ts";
import type { Assertion, Suite } from "./unittest/suite.ts";
import { formatErrors } from "./unittest/suite.ts";
import { buildSetValue, coalesce, parseSetPath, userValues } from "./unittest/values.ts";
import { find } from "./unittest/yaml-path.ts";

const suite = (templates: string[], tests: Suite["tests"]): Suite => ({
  suite: "evaluator",
  templates,
  release: { name: "distcc", namespace: "build" },
  tests,
  dir: join(CHART, "tests"),
});

const ARGS = "spec.template.spec.containers[0].args";

describe("a wrong assertion fails", () => {
  test.each<[string, Assertion, Record<string, unknown>]>([
    ["equal, another value", { equal: { path: "metadata.name", value: "other" } }, {}],
    ["equal, a path that is not there", { equal: { path: "spec.template.spec.hostNetwork", value: false } }, {}],
    ["notEqual, the same value", { notEqual: { path: "metadata.name", value: "distcc" } }, {}],
    ["contains, an absent item", { contains: { path: ARGS, content: "--verbose" } }, {}],
    ["contains, a wrong count", { contains: { path: ARGS, content: "--allow", count: 2 } }, {}],
    ["notContains, a present item", { notContains: { path: ARGS, content: "--stats" } }, {}],
    ["matchRegex, no match", { matchRegex: { path: "metadata.name", pattern: "^x" } }, {}],
    ["matchRegex, not a string", { matchRegex: { path: ARGS, pattern: "." } }, {}],
    ["isKind", { isKind: { of: "Deployment" } }, {}],
    ["hasDocuments", { hasDocuments: { count: 2 } }, {}],
    ["exists", { exists: { path: "spec.template.spec.dnsPolicy" } }, {}],
    ["notExists", { notExists: { path: "spec.template.spec.tolerations" } }, {}],
    ["isNull, a path that is there", { isNull: { path: "spec.updateStrategy" } }, {}],
    ["isNullOrEmpty, a list with items", { isNullOrEmpty: { path: "spec.template.spec.tolerations" } }, {}],
    ["isSubset", { isSubset: { path: "spec.selector.matchLabels", content: { app: "distcc" } } }, {}],
    ["lengthEqual", { lengthEqual: { path: "spec.template.spec.tolerations", count: 1 } }, {}],
    ["failedTemplate on a render that works", { failedTemplate: {} }, {}],
    ["notFailedTemplate on a render that fails", { notFailedTemplate: {} }, { distccd: { allow: [] } }],
    ["errorPattern that does not match", { failedTemplate: { errorPattern: "whitelist" } }, { distccd: { allow: [] } }],
    ["errorMessage that is not the message", { failedTemplate: { errorMessage: "nope" } }, { distccd: { allow: [] } }],
    ["equal after a failed render", { equal: { path: "kind", value: "DaemonSet" } }, { distccd: { allow: [] } }],
    ["documentIndex out of range", { isKind: { of: "DaemonSet" }, documentIndex: 1 }, {}],
    ["documentSelector that selects nothing", { isKind: { of: "DaemonSet" }, documentSelector: { path: "kind", value: "Pod" } }, {}],
    ["a template the suite does not render", { hasDocuments: { count: 0 }, template: "service.yaml" }, {}],
  ])("%s", (_name, assertion, set) => {
    const broken = suite(["daemonset.yaml"], [{ it: "is wrong", set, asserts: [assertion] }]);
    const job = broken.tests[0] as Suite["tests"][number];
    expect(runJob(broken, job, 4)).toHaveLength(1);
  });

  test("a fail in a template the suite does not render does not count, as in the plugin", () => {
    const set = { service: { type: "ClusterIP", nodePort: 30000 } };
    const only = suite(["daemonset.yaml"], [{ it: "renders", set, asserts: [{ isKind: { of: "DaemonSet" } }] }]);
    expect(runJob(only, only.tests[0] as Suite["tests"][number], 4)).toEqual([]);
    const both = suite(
      ["daemonset.yaml", "service.yaml"],
      [{ it: "fails", set, asserts: [{ isKind: { of: "DaemonSet" }, template: "daemonset.yaml" }] }],
    );
    expect(runJob(both, both.tests[0] as Suite["tests"][number], 4)).toHaveLength(1);
  });
});

describe("NOTES.txt", () => {
  test("renders as one raw document, the text Helm 4 prints after install", () => {
    const release = { name: "distcc", namespace: "build" };
    const result = render({ version: 4, templates: ["NOTES.txt"], excludeTemplates: [], values: {}, release, capabilities: {}, chart: {} });
    expect(result.kind).toBe("rendered");
    const docs = result.kind === "rendered" ? result.files.get("distcc/templates/NOTES.txt") : undefined;
    expect(`NOTES:\n${docs?.[0]?.[RAW]}`).toBe(renderNotes(4));
  });

  test("a raw pattern that is not in it fails", () => {
    const notes = suite(["NOTES.txt"], [{ it: "is wrong", asserts: [{ matchRegexRaw: { pattern: "^no such line$" } }] }]);
    expect(runJob(notes, notes.tests[0] as Suite["tests"][number], 3)).toHaveLength(1);
  });
});

describe("paths, as yaml-jsonpath finds them", () => {
  const doc = {
    metadata: { name: "a", labels: { "app.kubernetes.io/name": "distcc" } },
    items: [
      { name: "x", port: 1 },
      { name: "y", port: 2, tls: true },
    ],
  };
  test.each<[string, unknown[]]>([
    ["metadata.name", ["a"]],
    ["$.metadata.name", ["a"]],
    ['metadata.labels["app.kubernetes.io/name"]', ["distcc"]],
    ["metadata.labels['app.kubernetes.io/name']", ["distcc"]],
    ["items[1].name", ["y"]],
    ["items[-1].port", [2]],
    ["items[*].name", ["x", "y"]],
    ["items.*.port", [1, 2]],
    ["items[0,1].port", [1, 2]],
    ["items[0:1].name", ["x"]],
    ["items[?(@.name == 'y')].port", [2]],
    ["items[?(@.port > 1 || @.name == 'x')].name", ["x", "y"]],
    ["items[?(@.tls)].name", ["y"]],
    ["items[?(!@.tls)].name", ["x"]],
    ["items[?(@.name =~ /^[xy]$/ && @.port < 2)].name", ["x"]],
    ["..port", [1, 2]],
    ["metadata.missing", []],
    ["items.name", []],
    ["metadata[0]", []],
    ["", [doc]],
  ])("%s", (path, expected) => {
    expect(find(doc, path)).toEqual(expected);
  });

  test("a malformed path is an error, not an empty match", () => {
    expect(() => find(doc, "items[")).toThrow();
    expect(() => find(doc, "items[?(@.name == )]")).toThrow();
  });
});

describe("values, as the plugin builds them", () => {
  test("set paths: keys, indexes and bracketed keys with dots", () => {
    expect(parseSetPath("a.b[1].c")).toEqual(["a", "b", 1, "c"]);
    expect(parseSetPath("podAnnotations.[example.com/owner]")).toEqual(["podAnnotations", "example.com/owner"]);
    expect(buildSetValue("a[1]", "x")).toEqual({ a: [null, "x"] });
    expect(() => parseSetPath("a.")).toThrow();
    expect(() => parseSetPath("a=b")).toThrow();
  });

  test("later values files and set win, maps merge, lists are replaced", () => {
    const merged = userValues(
      [{ service: { type: "LoadBalancer", port: 1 } }, { service: { port: 2 } }],
      [{ "distccd.allow": ["10.0.0.0/8"] }, { "service.type": "ClusterIP" }],
    );
    expect(merged).toEqual({ service: { type: "ClusterIP", port: 2 }, distccd: { allow: ["10.0.0.0/8"] } });
  });

  test("a null removes a default, as Helm's coalescing does", () => {
    expect(
      coalesce(
        { imagePullSecrets: null, image: { tag: "1" } },
        { imagePullSecrets: [{ name: "x" }], image: { tag: "", pullPolicy: "Always" } },
      ),
    ).toEqual({
      image: { tag: "1", pullPolicy: "Always" },
    });
  });
});

describe("the test-file schema refuses", () => {
  const base = { suite: "s", templates: ["daemonset.yaml"], release: { name: "distcc" } };
  test.each<[string, unknown]>([
    ["a misspelt assertion parameter", { ...base, tests: [{ it: "t", asserts: [{ matchRegex: { path: "a", patern: "x" } }] }] }],
    ["two assertion types in one", { ...base, tests: [{ it: "t", asserts: [{ exists: { path: "a" }, notExists: { path: "a" } }] }] }],
    ["an assertion type the runner cannot evaluate", { ...base, tests: [{ it: "t", asserts: [{ matchSnapshot: {} }] }] }],
    ["a test without assertions", { ...base, tests: [{ it: "t", asserts: [] }] }],
    ["a suite without a release name", { ...base, release: {}, tests: [{ it: "t", asserts: [{ hasDocuments: { count: 1 } }] }] }],
    [
      "errorMessage and errorPattern together",
      { ...base, tests: [{ it: "t", asserts: [{ failedTemplate: { errorMessage: "a", errorPattern: "a" } }] }] },
    ],
  ])("%s", (_name, document) => {
    expect(formatErrors(document).length).toBeGreaterThan(0);
  });
});
