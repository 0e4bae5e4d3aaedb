/**
 * Reads chart/tests/*_test.yaml as helm-unittest does (a file may hold several suites between
 * `---` lines) and checks each against suite-schema.json, our schema of the test-file format.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { compileSchema, errorLines } from "./json-schema.ts";
import type { Capabilities, ChartOverride, Release } from "./render.ts";
import type { Values } from "./values.ts";

export interface Assertion {
  readonly not?: boolean;
  readonly template?: string;
  readonly documentIndex?: number;
  readonly documentSelector?: DocumentSelector;
  readonly [type: string]: unknown;
}

export interface DocumentSelector {
  readonly path: string;
  readonly value?: unknown;
  readonly matchMany?: boolean;
  readonly skipEmptyTemplates?: boolean;
}

interface Common {
  readonly values?: string[];
  readonly set?: Values;
  readonly release?: Release;
  readonly capabilities?: Capabilities;
  readonly chart?: ChartOverride;
}

export interface TestJob extends Common {
  readonly it: string;
  readonly template?: string;
  readonly templates?: string[];
  readonly documentIndex?: number;
  readonly documentSelector?: DocumentSelector;
  readonly asserts: Assertion[];
}

export interface Suite extends Common {
  readonly suite: string;
  readonly templates: string[];
  readonly excludeTemplates?: string[];
  readonly release: Release;
  readonly tests: TestJob[];
  /** Values files are relative to the suite file. */
  readonly dir: string;
}

const SCHEMA = JSON.parse(readFileSync(join(import.meta.dir, "suite-schema.json"), "utf8"));
const validateSuite = compileSchema(SCHEMA);

/** Schema violations of one suite document, as "/tests/0/asserts/1: message" lines. */
export function formatErrors(document: unknown): string[] {
  return validateSuite(document) ? [] : errorLines(validateSuite);
}

/** helm-unittest's splitterPattern: a line of `---` separates suites. */
const SPLITTER = /(?:^|\s*\n)---\s*/;

export function suiteDocuments(text: string): unknown[] {
  return text
    .split(SPLITTER)
    .filter((part) => part.trim().length > 0)
    .map((part) => parse(part) as unknown)
    .filter((doc) => doc !== null);
}

export function readSuites(file: string): Suite[] {
  return suiteDocuments(readFileSync(file, "utf8")).map((doc) => ({ ...(doc as Omit<Suite, "dir">), dir: dirname(file) }));
}
