/**
 * A private copy of the fixture project for one test, so objects written by one test never
 * meet another's.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const FIXTURE_PROJECT = resolve(import.meta.dir, "../fixtures/project");

export function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "workspace-"));
  cpSync(FIXTURE_PROJECT, dir, { recursive: true });
  return dir;
}
