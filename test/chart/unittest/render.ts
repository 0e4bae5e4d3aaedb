/**
 * Renders a helm-unittest test job with our pinned Helm 3 or 4: like the plugin (deep_copy.go
 * filterV3Templates), only the suite's templates and the partials are in the chart that renders,
 * so a `fail` in another template does not count; `helm template` does the rest.
 *
 * `helm template` leaves NOTES.txt out, so when a suite selects it, a stand-in template renders
 * it through `tpl` with the same values, as one raw document like the plugin's.
 *
 * Differences from the plugin, none of which the chart relies on: Capabilities add to Helm's
 * built-in API versions (the plugin has none by default); .Release.Revision is 1 (the plugin's
 * default is 0); within one template, documents of different kinds come in Helm's install order.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { RE2 } from "re2-wasm";
import { parse, parseAllDocuments, stringify } from "yaml";
import { CHART, type HelmVersion, helm } from "../../helpers/helm.ts";
import type { Values } from "./values.ts";

export const CHART_NAME = (parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { name: string }).name;

export interface Release {
  name: string;
  namespace?: string;
  upgrade?: boolean;
}
export interface Capabilities {
  majorVersion?: number | string;
  minorVersion?: number | string;
  apiVersions?: string[] | null;
}
export interface ChartOverride {
  version?: string;
  appVersion?: string;
}

export interface RenderRequest {
  readonly version: HelmVersion;
  readonly templates: readonly string[];
  readonly excludeTemplates: readonly string[];
  readonly values: Values;
  readonly release: Release;
  readonly capabilities: Capabilities;
  readonly chart: ChartOverride;
}

export type Document = Record<string, unknown>;

/** The key of a document that holds text: NOTES.txt, or a template's failure (the plugin's common.RAW). */
export const RAW = "raw";

export type RenderResult =
  /** Documents by template, keyed like the plugin: distcc/templates/daemonset.yaml. */
  | { readonly kind: "rendered"; readonly files: ReadonlyMap<string, Document[]> }
  /** A template stopped (fail, required): the file and the message the plugin extracts. */
  | { readonly kind: "template-failed"; readonly file: string; readonly message: string }
  /** Helm refused before any template ran (the values schema, a bad values file). */
  | { readonly kind: "error"; readonly message: string };

/** The plugin's getTemplateFileName: `templates/` may be left out. */
export function templateFileName(name: string): string {
  return name.startsWith("templates") || name.startsWith("charts") || name.startsWith("**") ? name : `templates/${name}`;
}

/** The plugin's getTemplateFileNamePattern; unanchored, as it uses regexp.MatchString. */
function templatePattern(name: string): RegExp {
  const escaped = `${CHART_NAME}/${templateFileName(name)}`
    .replace(/[.+[\]?()|{}^$]/g, (c) => `\\${c}`)
    .replaceAll("**", "[0-9a-zA-Z_\\-/\\.]+")
    .replaceAll("*", "[0-9a-zA-Z_\\-_/\\.]*");
  return new RegExp(escaped);
}

function listTemplates(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(CHART, join(entry.parentPath, entry.name)))
    .sort();
}

export const CHART_TEMPLATES = listTemplates(join(CHART, "templates"));

/** The chart's templates a suite selects, as paths in the chart (templates/x.yaml), partials excluded. */
export function selectTemplates(templates: readonly string[], exclude: readonly string[]): string[] {
  const matches = (names: readonly string[], file: string) => names.some((name) => templatePattern(name).test(`${CHART_NAME}/${file}`));
  return CHART_TEMPLATES.filter((file) => matches(templates, file) && !matches(exclude, file) && !basename(file).startsWith("_"));
}

const NOTES = "templates/NOTES.txt";
const NOTES_COPY = "unittest-notes.txt";
const NOTES_STAND_IN = "templates/zz-unittest-notes.yaml";

const chartCopies = new Map<string, string>();

function chartCopy(selected: readonly string[], chart: ChartOverride): string {
  const key = JSON.stringify([selected, chart]);
  const cached = chartCopies.get(key);
  if (cached) return cached;
  const copy = join(mkdtempSync(join(tmpdir(), "unittest-chart-")), CHART_NAME);
  cpSync(CHART, copy, { recursive: true, filter: (source) => !relative(CHART, source).match(/^(templates|tests)\//) });
  for (const file of CHART_TEMPLATES.filter((f) => (selected.includes(f) && f !== NOTES) || basename(f).startsWith("_"))) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(CHART, file), join(copy, file));
  }
  if (selected.includes(NOTES)) {
    cpSync(join(CHART, NOTES), join(copy, NOTES_COPY));
    writeFileSync(join(copy, NOTES_STAND_IN), `${RAW}: {{ tpl (.Files.Get "${NOTES_COPY}") . | toJson }}\n`);
  }
  if (chart.version !== undefined || chart.appVersion !== undefined) {
    const metadata = parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(copy, "Chart.yaml"), stringify({ ...metadata, ...chart }));
  }
  chartCopies.set(key, copy);
  return copy;
}

/** helm-unittest's own expression for where a render error happened (test_job.go regexPattern). */
const RENDER_ERROR = new RE2("(?msU)^(?:.+: |.+ \\()(?:(.+):\\d+:\\d+).+(?:.+>)*: (.+)$", "u");

function helmError(stderr: string): string {
  const start = stderr.indexOf("Error: ");
  const message = start < 0 ? stderr : stderr.slice(start + "Error: ".length);
  return message.replace(/\n+Use --debug flag to render out invalid YAML\n*$/, "").trimEnd();
}

function classify(message: string): RenderResult {
  const engineError = message.startsWith("execution error at (") || message.startsWith("template: ");
  const match = engineError ? RENDER_ERROR.exec(message) : null;
  if (!match) return { kind: "error", message };
  const lines = message.split("\n");
  return {
    kind: "template-failed",
    file: match[1] as string,
    message: lines.length > 1 ? lines.slice(1).join("\n") : (match[2] as string),
  };
}

function parseOutput(stdout: string, selected: readonly string[]): Map<string, Document[]> {
  const files = new Map<string, Document[]>(selected.map((file) => [`${CHART_NAME}/${file}`, []]));
  const parts = stdout.split(/^---\n# Source: (.+)\n/m);
  for (let i = 1; i < parts.length; i += 2) {
    const source = (parts[i] as string).replace(`${CHART_NAME}/${NOTES_STAND_IN}`, `${CHART_NAME}/${NOTES}`);
    for (const doc of parseAllDocuments(parts[i + 1] ?? "")) {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
      const value = doc.toJS() as unknown;
      if (value !== null && typeof value === "object" && Object.keys(value).length > 0) files.get(source)?.push(value as Document);
    }
  }
  return files;
}

const renders = new Map<string, RenderResult>();

export function render(request: RenderRequest): RenderResult {
  const selected = selectTemplates(request.templates, request.excludeTemplates);
  const key = JSON.stringify({ ...request, selected });
  const cached = renders.get(key);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "unittest-values-"));
  // JSON, not YAML: Helm reads values as YAML 1.1, where an unquoted yes would turn boolean.
  writeFileSync(join(dir, "values.yaml"), JSON.stringify(request.values));
  const { capabilities, release } = request;
  const args = ["template", release.name, chartCopy(selected, request.chart), "--namespace", release.namespace ?? "NAMESPACE"];
  args.push("-f", join(dir, "values.yaml"));
  if (release.upgrade) args.push("--is-upgrade");
  if ((capabilities.majorVersion === undefined) !== (capabilities.minorVersion === undefined)) {
    throw new Error("capabilities: give majorVersion and minorVersion together (the plugin's default Kubernetes version is not Helm's)");
  }
  if (capabilities.majorVersion !== undefined) args.push("--kube-version", `v${capabilities.majorVersion}.${capabilities.minorVersion}.0`);
  for (const api of capabilities.apiVersions ?? []) args.push("--api-versions", api);
  const run = helm(request.version, args);
  const result: RenderResult =
    run.exitCode === 0 ? { kind: "rendered", files: parseOutput(run.stdout, selected) } : classify(helmError(run.stderr));
  renders.set(key, result);
  return result;
}
