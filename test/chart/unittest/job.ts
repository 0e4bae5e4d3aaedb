/**
 * Runs one helm-unittest test job against `helm template` (pkg/unittest/test_job.go and
 * assertion.go): which templates each assertion looks at, which of their documents
 * (documentIndex, documentSelector), and whether the render had to succeed. Returns the
 * failures, one line each; none means the job passes.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import type { HelmVersion } from "../../helpers/helm.ts";
import { ASSERTION_TYPES, type AssertionType } from "./assertions.ts";
import { CHART_NAME, type Document, RAW, type RenderResult, render, templateFileName } from "./render.ts";
import type { Assertion, DocumentSelector, Suite, TestJob } from "./suite.ts";
import { userValues, type Values } from "./values.ts";
import { find } from "./yaml-path.ts";

const OPTIONS = new Set(["not", "template", "documentIndex", "documentSelector"]);

export function assertionType(assertion: Assertion): string {
  const types = Object.keys(assertion).filter((key) => !OPTIONS.has(key));
  if (types.length !== 1 || !((types[0] as string) in ASSERTION_TYPES))
    throw new Error(`assertion needs exactly one known type, has ${types}`);
  return types[0] as string;
}

/** The values a job renders with: suite then test values files, suite then test `set`. */
export function jobValues(suite: Suite, job: TestJob): Values {
  const files = [...(suite.values ?? []), ...(job.values ?? [])].map(
    (file) => parse(readFileSync(join(suite.dir, file), "utf8")) as Values,
  );
  return userValues(files, [suite.set ?? {}, job.set ?? {}]);
}

export function expectsFailure(job: TestJob): boolean {
  return job.asserts.some((assertion) => assertionType(assertion) === "failedTemplate");
}

interface Rendered {
  /** Documents by template key (distcc/templates/x.yaml); a template that failed holds one raw document. */
  readonly files: ReadonlyMap<string, Document[]>;
  readonly succeeded: boolean;
  readonly error: string | undefined;
}

const templateKey = (name: string) => `${CHART_NAME}/${templateFileName(name)}`;

function rendered(result: RenderResult, suite: Suite, job: TestJob): Rendered {
  if (result.kind === "rendered") return { files: result.files, succeeded: true, error: undefined };
  // Without a failedTemplate assertion the plugin reports a template's failure as the job's error.
  if (result.kind === "error" || !expectsFailure(job)) {
    return { files: new Map(), succeeded: false, error: result.message };
  }
  const raw: Document[] = [{ [RAW]: result.message }];
  // A failure inside a partial is charged to every template of the suite.
  const files = basename(result.file).startsWith("_") ? suite.templates.map(templateKey) : [result.file];
  return { files: new Map(files.map((file) => [file, raw])), succeeded: false, error: undefined };
}

function templatesToAssert(assertion: Assertion, suite: Suite, job: TestJob, files: ReadonlyMap<string, Document[]>): string[] {
  if (assertion.template !== undefined) return [templateKey(assertion.template)];
  if (job.templates !== undefined && job.templates.length > 0) return job.templates.map(templateKey);
  if (job.template !== undefined) return [templateKey(job.template)];
  if (suite.templates.some((t) => t.includes("*"))) return [...files.keys()];
  return suite.templates.map(templateKey);
}

function selectDocuments(
  byTemplate: Map<string, Document[]>,
  selector: DocumentSelector | undefined,
  index: number,
): Map<string, Document[]> | string {
  const selected = new Map<string, Document[]>();
  if (selector !== undefined) {
    let total = 0;
    for (const [template, docs] of byTemplate) {
      const matching = docs.filter((doc) =>
        find(doc, selector.path).some((value) => selector.value === undefined || Bun.deepEquals(selector.value, value)),
      );
      total += matching.length;
      if (!selector.matchMany && total > 1) return "documentSelector: multiple documents found";
      if (matching.length === 0 && !selector.skipEmptyTemplates) return `documentSelector: document not found in ${template}`;
      if (matching.length > 0 || !selector.skipEmptyTemplates) selected.set(template, matching);
    }
    return selected;
  }
  if (index === -1) return byTemplate;
  for (const [template, docs] of byTemplate) {
    const doc = docs[index];
    if (doc === undefined) return `document index ${index} is out of range`;
    if (new Set(docs.map((d) => d.kind)).size > 1) {
      return `documentIndex in ${template}: its documents are of several kinds, which helm template reorders`;
    }
    selected.set(template, [doc]);
  }
  return selected;
}

function runAssertion(assertion: Assertion, suite: Suite, job: TestJob, result: Rendered): string | undefined {
  const name = assertionType(assertion);
  const type = ASSERTION_TYPES[name] as AssertionType;
  const params = (assertion[name] ?? {}) as Record<string, unknown>;
  const byTemplate = new Map(templatesToAssert(assertion, suite, job, result.files).map((t) => [t, result.files.get(t) ?? []]));
  const selected = selectDocuments(
    byTemplate,
    assertion.documentSelector ?? job.documentSelector,
    job.documentIndex ?? assertion.documentIndex ?? -1,
  );
  if (typeof selected === "string") return selected;
  const negative = (assertion.not === true) !== type.antonym;
  const validate = (docs: Document[], chosen: Document[]) =>
    type.validate(params, { docs, selected: chosen, negative, renderError: result.error });
  if (selected.size === 0) {
    if (type.expectRenderSuccess !== result.succeeded) return "rendered manifest is empty";
    return validate([], []);
  }
  for (const template of [...selected.keys()].sort()) {
    const docs = result.files.get(template);
    if (docs === undefined && type.expectRenderSuccess) {
      return result.succeeded ? `template ${template} does not exist or is not selected in the suite` : `render failed: ${result.error}`;
    }
    if (type.expectRenderSuccess !== result.succeeded) {
      return type.expectRenderSuccess ? `render failed: ${result.error ?? docs?.[0]?.[RAW]}` : `${template} rendered, expected it to fail`;
    }
    const failure = validate(docs ?? [], selected.get(template) ?? []);
    if (failure !== undefined) return `${template}: ${failure}`;
  }
  return undefined;
}

/** What one test job renders with one Helm version. */
export function renderJob(suite: Suite, job: TestJob, version: HelmVersion): RenderResult {
  return render({
    version,
    templates: suite.templates,
    excludeTemplates: suite.excludeTemplates ?? [],
    values: jobValues(suite, job),
    release: { ...suite.release, ...job.release },
    capabilities: {
      ...suite.capabilities,
      ...job.capabilities,
      apiVersions: [...(job.capabilities?.apiVersions ?? []), ...(suite.capabilities?.apiVersions ?? [])],
    },
    chart: { ...suite.chart, ...job.chart },
  });
}

/** The failures of one test job with one Helm version: "assert 2 (equal): ..." lines. */
export function runJob(suite: Suite, job: TestJob, version: HelmVersion): string[] {
  const state = rendered(renderJob(suite, job, version), suite, job);
  return job.asserts.flatMap((assertion, index) => {
    const failure = runAssertion(assertion, suite, job, state);
    return failure === undefined ? [] : [`assert ${index} (${assertionType(assertion)}): ${failure}`];
  });
}
