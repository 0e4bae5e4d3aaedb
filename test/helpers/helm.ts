/**
 * Runs the real Helm binaries (Helm 3.17 and Helm 4, unpacked by `make helm`) on the chart and
 * parses what they render, the way helm-unittest suites assert on templates.
 */
import { copyFileSync, cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllDocuments, stringify } from "yaml";

export const ROOT = resolve(import.meta.dir, "../..");
export const CHART = join(ROOT, "chart");
export const HELM_VERSIONS = [3, 4] as const;
export type HelmVersion = (typeof HELM_VERSIONS)[number];

export function helmBinary(version: HelmVersion): string {
  return join(ROOT, `.tools/helm${version}/helm`);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field in the tests.
  spec?: any;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export interface HelmRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function helm(version: HelmVersion, args: readonly string[]): HelmRun {
  const result = Bun.spawnSync([helmBinary(version), ...args], {
    cwd: ROOT,
    env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), "helm-cache") },
  });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** Writes values overrides to a file, as a user's `-f my-values.yaml`. */
export function valuesFile(values: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "values-")), "values.yaml");
  writeFileSync(file, stringify(values));
  return file;
}

function valuesArgs(values: unknown, files: readonly string[]): string[] {
  return [...files.flatMap((file) => ["-f", file]), ...(values === undefined ? [] : ["-f", valuesFile(values)])];
}

/** `helm template` with overrides; throws with Helm's stderr when it fails. */
export function render(version: HelmVersion, values?: unknown, files: readonly string[] = [], extra: readonly string[] = []): K8sObject[] {
  const run = helm(version, ["template", "distcc", CHART, "--namespace", "build", ...valuesArgs(values, files), ...extra]);
  if (run.exitCode !== 0) throw new Error(`helm ${version} template failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((doc): doc is K8sObject => doc !== null);
}

/** `helm template` that must fail; returns Helm's error output. */
export function renderError(version: HelmVersion, values?: unknown, files: readonly string[] = []): string {
  const run = helm(version, ["template", "distcc", CHART, ...valuesArgs(values, files)]);
  if (run.exitCode === 0) throw new Error(`helm ${version} template unexpectedly succeeded`);
  return run.stderr;
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ""} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}

/**
 * NOTES.txt as a user sees it after install. Helm 4 renders it with `install --dry-run=client`;
 * Helm 3.17 insists on a cluster for that, so for it a copy of the chart renders the same file
 * through `tpl` (same values, same helpers).
 */
export function renderNotes(version: HelmVersion, values?: unknown): string {
  const extra = valuesArgs(values, []);
  if (version === 4) {
    const run = helm(4, ["install", "distcc", CHART, "--dry-run=client", "--namespace", "build", ...extra]);
    if (run.exitCode !== 0) throw new Error(`helm 4 install --dry-run failed:\n${run.stderr}`);
    return run.stdout.slice(run.stdout.indexOf("NOTES:"));
  }
  const copy = join(mkdtempSync(join(tmpdir(), "chart-notes-")), "chart");
  cpSync(CHART, copy, { recursive: true });
  copyFileSync(join(CHART, "templates/NOTES.txt"), join(copy, "notes.txt"));
  writeFileSync(join(copy, "templates/zz-notes.yaml"), 'notes: |\n{{ tpl (.Files.Get "notes.txt") . | indent 2 }}\n');
  const run = helm(3, ["template", "distcc", copy, "--namespace", "build", "--show-only", "templates/zz-notes.yaml", ...extra]);
  if (run.exitCode !== 0) throw new Error(`helm 3 template of NOTES failed:\n${run.stderr}`);
  const rendered = parseAllDocuments(run.stdout)[0]?.toJS() as { notes?: string } | undefined;
  if (rendered?.notes === undefined) throw new Error(`helm 3 rendered no NOTES:\n${run.stdout}`);
  return rendered.notes;
}
