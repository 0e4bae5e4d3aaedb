/**
 * The GitHub workflows and the CI configs beside them, parsed: the jobs, their steps, and the
 * shell each `run` step holds, for tests that check what GitHub would do with them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "./helm.ts";

export const WORKFLOWS = join(ROOT, ".github/workflows");
export const WORKFLOW_FILES = readdirSync(WORKFLOWS).filter((name) => name.endsWith(".yml"));

export interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string | number | boolean>;
}
export interface Job {
  name?: string;
  needs?: string | string[];
  "runs-on"?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  steps: Step[];
}
export interface Workflow {
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean | string };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

export const workflowText = (name: string) => readFileSync(join(WORKFLOWS, name), "utf8");
export const workflow = (name: string) => parse(workflowText(name)) as Workflow;
export const runSteps = (name: string) =>
  Object.values(workflow(name).jobs).flatMap((job) => job.steps.filter((step) => step.run !== undefined));

export function job(name: string, id: string): Job {
  const found = workflow(name).jobs[id];
  if (!found) throw new Error(`${name} has no job ${id}`);
  return found;
}

/** A job's needs as a list. */
export function needs(found: Job): string[] {
  return found.needs === undefined ? [] : ([] as string[]).concat(found.needs);
}

/** The index of the first step of a job that uses `action` or whose script contains `text`. */
export function stepIndex(found: Job, match: { uses?: string; run?: string }): number {
  return found.steps.findIndex(
    (step) =>
      (match.uses !== undefined && step.uses?.startsWith(`${match.uses}@`)) || (match.run !== undefined && step.run?.includes(match.run)),
  );
}

/** A YAML file of the repository, parsed. */
export function yamlFile<T>(path: string): T {
  return parse(readFileSync(join(ROOT, path), "utf8")) as T;
}
