/**
 * The Dockerfile parsed once (dockerfile-ast), and what tests read from it: instructions, ARG
 * defaults, the image's command line and the whitelist it installs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Dockerfile, DockerfileParser, type Instruction, type JSONInstruction } from "dockerfile-ast";
import { ROOT } from "./helm.ts";

export const DOCKERFILE_TEXT = readFileSync(join(ROOT, "Dockerfile"), "utf8");
export const dockerfile: Dockerfile = DockerfileParser.parse(DOCKERFILE_TEXT);

export function instructions(keyword: string): Instruction[] {
  return dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword);
}

function json(keyword: string): string[] {
  return (instructions(keyword)[0] as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
}

export function argDefault(name: string): string | undefined {
  return (
    dockerfile
      .getARGs()
      .find((arg) => arg.getProperty()?.getName() === name)
      ?.getProperty()
      ?.getValue() ?? undefined
  );
}

/** The image's command line: ENTRYPOINT then CMD, as `docker run IMAGE` runs it. */
export function imageCommand(): string[] {
  return [...json("ENTRYPOINT"), ...json("CMD")];
}

/** The compiler names the image whitelists (the file the Dockerfile copies). */
export function imageWhitelist(): string[] {
  return readFileSync(join(ROOT, "image/whitelist"), "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
}
