/**
 * helm-unittest's validators (pkg/unittest/validators, v1.0.3), each over the documents an
 * assertion selected: every document must pass, no document fails a positive assertion and
 * passes a negative one. `negative` is `not: true` xor an antonym (notEqual, isNull, ...).
 * One difference: numbers compare by value, where the plugin's Go decoding tells 1 from 1.0.
 */
import { RE2 } from "re2-wasm";
import { type Document, RAW } from "./render.ts";
import { isMap } from "./values.ts";
import { find } from "./yaml-path.ts";

export interface ValidateContext {
  /** Every document the template rendered (hasDocuments counts these). */
  readonly docs: readonly Document[];
  /** The documents documentIndex / documentSelector chose. */
  readonly selected: readonly Document[];
  readonly negative: boolean;
  /** Helm's error when it refused before rendering (the values schema). */
  readonly renderError: string | undefined;
}

/** A failure message, or undefined when the assertion holds. */
type Validator = (params: Record<string, unknown>, context: ValidateContext) => string | undefined;

const show = (value: unknown) => JSON.stringify(value);

/** The plugin's uniformContent: spaces before a line end and leading line ends do not count. */
const uniform = (actual: unknown) => (typeof actual === "string" ? actual.replace(/ +\r?\n/g, "\n").replace(/^\n+/, "") : actual);

function decode(actual: unknown, base64: unknown): unknown {
  if (base64 !== true || typeof actual !== "string") return actual;
  return Buffer.from(actual, "base64").toString("utf8");
}

function regex(pattern: string): RE2 {
  return new RE2(pattern, "u");
}

/** The shape most validators share: the values at a path, each judged by `check`. */
function eachValue(check: (actual: unknown, params: Record<string, unknown>, negative: boolean) => string | undefined): Validator {
  return (params, { selected, negative }) => {
    if (selected.length === 0) return negative ? undefined : "no manifest found";
    for (const [index, doc] of selected.entries()) {
      const path = String(params.path);
      const actuals = find(doc, path);
      if (actuals.length === 0) {
        if (negative) continue;
        return `document ${index}: unknown path ${path}`;
      }
      for (const actual of actuals) {
        const failure = check(actual, params, negative);
        if (failure !== undefined) return `document ${index}, ${path}: ${failure}`;
      }
    }
    return undefined;
  };
}

const equal = eachValue((actual, { value, decodeBase64 }, negative) => {
  const got = uniform(decode(actual, decodeBase64));
  return Bun.deepEquals(value, got) === negative ? `expected${negative ? " NOT" : ""} ${show(value)}, got ${show(got)}` : undefined;
});

const matchRegex = eachValue((actual, { pattern, decodeBase64 }, negative) => {
  const got = decode(actual, decodeBase64);
  if (typeof got !== "string") return `expected a string, got ${show(got)}`;
  return regex(String(pattern)).test(got) === negative
    ? `expected${negative ? " NOT" : ""} to match /${pattern}/, got ${show(got)}`
    : undefined;
});

const contains = eachValue((actual, { content, count, any }, negative) => {
  if (!Array.isArray(actual)) return `expected an array, got ${show(actual)}`;
  let found = 0;
  for (const element of actual) {
    if (any === true && isMap(element) && isMap(content)) {
      if (Object.keys(content).every((key) => Bun.deepEquals(element[key], content[key]))) found++;
    } else if (Bun.deepEquals(element, content)) {
      found++;
    }
  }
  const holds = count === undefined ? found > 0 : found > 0 && found === count;
  if (holds !== negative) return undefined;
  return `expected${negative ? " NOT" : ""} to contain ${show(content)}${count === undefined ? "" : ` ${count} time(s)`}, got ${show(actual)}`;
});

const isSubset = eachValue((actual, { content }, negative) => {
  if (!isMap(actual) || !isMap(content)) return `expected an object, got ${show(actual)}`;
  const holds = Object.keys(content).every((key) => Bun.deepEquals(actual[key], content[key]));
  return holds === negative ? `expected${negative ? " NOT" : ""} to contain ${show(content)}, got ${show(actual)}` : undefined;
});

const isNullOrEmpty = eachValue((actual, _params, negative) => {
  const empty =
    actual === null ||
    actual === undefined ||
    actual === "" ||
    actual === 0 ||
    actual === false ||
    (Array.isArray(actual) && actual.length === 0) ||
    (isMap(actual) && Object.keys(actual).length === 0);
  return empty === negative ? `expected${negative ? " NOT" : ""} to be null or empty, got ${show(actual)}` : undefined;
});

const exists: Validator = ({ path }, { selected, negative }) => {
  if (selected.length === 0) return negative ? undefined : `no manifest found; expected ${path} to exist`;
  for (const [index, doc] of selected.entries()) {
    if (find(doc, String(path)).length > 0 === negative) return `document ${index}: ${path} expected to${negative ? " NOT" : ""} exist`;
  }
  return undefined;
};

function field(name: "kind" | "apiVersion"): Validator {
  return ({ of }, { selected, negative }) => {
    if (selected.length === 0) return negative ? undefined : `no manifest found; expected ${name} ${of}`;
    for (const [index, doc] of selected.entries()) {
      if ((doc[name] === of) === negative)
        return `document ${index}: expected${negative ? " NOT" : ""} ${name} ${of}, got ${show(doc[name])}`;
    }
    return undefined;
  };
}

/** equalRaw and matchRegexRaw: the text of a raw document (NOTES.txt). */
function raw(
  check: (text: string, params: Record<string, unknown>) => boolean,
  what: (params: Record<string, unknown>) => string,
): Validator {
  return (params, { selected, negative }) => {
    if (selected.length === 0) return negative ? undefined : "no manifest found";
    for (const doc of selected) {
      const text = String(uniform(doc[RAW]));
      if (check(text, params) === negative) return `expected${negative ? " NOT" : ""} ${what(params)}, got ${show(text)}`;
    }
    return undefined;
  };
}

const equalRaw = raw(
  (text, { value }) => text === value,
  ({ value }) => show(value),
);
const matchRegexRaw = raw(
  (text, { pattern }) => regex(String(pattern)).test(text),
  ({ pattern }) => `to match /${pattern}/`,
);

const hasDocuments: Validator = ({ count, filterAware }, { docs, selected, negative }) => {
  const actual = filterAware === true ? selected.length : docs.length;
  return (actual === count) === negative ? `expected${negative ? " NOT" : ""} ${count} document(s), got ${actual}` : undefined;
};

/** lengthEqual: one path and a count, or several paths whose arrays are as long as each other. */
const lengthEqual: Validator = ({ path, paths, count }, { selected, negative }) => {
  if (selected.length === 0) return negative ? undefined : "no manifest found";
  for (const [index, doc] of selected.entries()) {
    const lengths: number[] = [];
    for (const p of path === undefined ? (paths as string[]) : [String(path)]) {
      const actuals = find(doc, p);
      if (actuals.length === 0 && !negative) return `document ${index}: unknown path ${p}`;
      for (const actual of actuals) {
        if (!Array.isArray(actual) && count === undefined) return `document ${index}: ${p} is not an array`;
        const length = Array.isArray(actual) ? actual.length : 0;
        if (count !== undefined && (length === count) === negative) {
          return `document ${index}, ${p}: expected${negative ? " NOT" : ""} ${count} item(s), got ${length}`;
        }
        lengths.push(length);
      }
    }
    if (path === undefined && new Set(lengths).size > 1 !== negative) {
      return `document ${index}: expected ${paths} ${negative ? "NOT " : ""}to be as long as each other, got ${lengths}`;
    }
  }
  return undefined;
};

/** Go regexp.QuoteMeta, for the plugin's literal fallback. */
const quoteMeta = (text: string) => text.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
const META = /[\\.+*?()|[\]{}^$]/;

function matchesError(actual: string, { errorMessage, errorPattern }: Record<string, unknown>): boolean {
  if (typeof errorPattern === "string") {
    let pattern: RE2;
    try {
      pattern = regex(errorPattern);
    } catch {
      pattern = regex(quoteMeta(errorPattern));
    }
    if (pattern.test(actual)) return true;
    return META.test(errorPattern) && regex(quoteMeta(errorPattern)).test(actual);
  }
  return typeof errorMessage !== "string" || errorMessage === actual;
}

const failedTemplate: Validator = (params, { selected, negative, renderError }) => {
  const expected = String(params.errorPattern ?? params.errorMessage ?? "a failure");
  if (renderError !== undefined) {
    return matchesError(renderError, params) === negative ? `expected${negative ? " NOT" : ""} ${expected}, got ${renderError}` : undefined;
  }
  if (selected.length === 0) return negative ? undefined : "no failed document";
  const pattern = typeof params.errorPattern === "string";
  if (!pattern && typeof params.errorMessage !== "string") return undefined;
  for (const doc of selected) {
    const raw = doc[RAW];
    // As the plugin: a document without raw text passes a pattern, and is no exact message.
    if (typeof raw !== "string" && pattern) continue;
    if ((typeof raw === "string" && matchesError(raw, params)) === negative) {
      return `expected${negative ? " NOT" : ""} ${expected}, got ${raw ?? "a rendered document"}`;
    }
  }
  return undefined;
};

export interface AssertionType {
  readonly validate: Validator;
  readonly antonym: boolean;
  /** false for failedTemplate: it holds only when the render failed. */
  readonly expectRenderSuccess: boolean;
}

const type = (validate: Validator, antonym = false, expectRenderSuccess = true): AssertionType => ({
  validate,
  antonym,
  expectRenderSuccess,
});

/** assertion.go assertTypeMapping, for the types suite-schema.json allows. */
export const ASSERTION_TYPES: Readonly<Record<string, AssertionType>> = {
  equal: type(equal),
  notEqual: type(equal, true),
  contains: type(contains),
  notContains: type(contains, true),
  matchRegex: type(matchRegex),
  notMatchRegex: type(matchRegex, true),
  isKind: type(field("kind")),
  isAPIVersion: type(field("apiVersion")),
  hasDocuments: type(hasDocuments),
  exists: type(exists),
  notExists: type(exists, true),
  isNotNull: type(exists),
  isNull: type(exists, true),
  isNullOrEmpty: type(isNullOrEmpty),
  isEmpty: type(isNullOrEmpty),
  isNotNullOrEmpty: type(isNullOrEmpty, true),
  isNotEmpty: type(isNullOrEmpty, true),
  isSubset: type(isSubset),
  isNotSubset: type(isSubset, true),
  lengthEqual: type(lengthEqual),
  notLengthEqual: type(lengthEqual, true),
  equalRaw: type(equalRaw),
  notEqualRaw: type(equalRaw, true),
  matchRegexRaw: type(matchRegexRaw),
  notMatchRegexRaw: type(matchRegexRaw, true),
  failedTemplate: type(failedTemplate, false, false),
  notFailedTemplate: type(failedTemplate, true),
};
