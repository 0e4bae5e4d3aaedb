/**
 * @module The cache key: SHA-256 over everything that decides a compile's output (README, "The
 * compile cache"). Each part is written with its length, so no two different sets of parts
 * hash the same bytes.
 */
import type { TreeManifest } from "./tree-manifest.ts";

/** Bumped whenever what goes into the key, or what an entry holds, changes: old entries then never match. */
const KEY_FORMAT = "distccd-cache-1";
/** Job temp dirs are named afresh for every job; the key sees this fixed name in their place. */
const JOB_DIR = "/distccd-job";

/** Variables gcc reads that can change an object, a dependency file or the text of a diagnostic. */
const ENVIRONMENT_NAMES = new Set([
  "COMPILER_PATH",
  "LIBRARY_PATH",
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
  "DEPENDENCIES_OUTPUT",
  "SUNPRO_DEPENDENCIES",
  "SOURCE_DATE_EPOCH",
  "LANG",
  "LANGUAGE",
  "TERM",
  "COLUMNS",
  "LD_LIBRARY_PATH",
  "LD_PRELOAD",
]);
const ENVIRONMENT_PREFIXES = ["GCC_", "LC_", "COLLECT_"];

/** What a job's input is: protocols 1 and 2 send one preprocessed source (here its SHA-256), pump mode a tree. */
export type KeyInput =
  | { readonly source: Uint8Array; readonly cwd?: string | undefined }
  | { readonly cdir: string; readonly tree: TreeManifest };

export interface KeyParts {
  /** From CompilerIdentities. */
  readonly identity: string;
  /** The command as the server runs it, already passed through {@link normalizeCommand}. */
  readonly command: readonly string[];
  /** From {@link compilerEnvironment}. */
  readonly environment: string;
  readonly input: KeyInput;
}

/**
 * The part of the compilers' environment that goes into the key. Not all of it: HOSTNAME and
 * Kubernetes' service variables differ from pod to pod and would keep agents from sharing.
 */
export function compilerEnvironment(env: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && (ENVIRONMENT_NAMES.has(name) || ENVIRONMENT_PREFIXES.some((p) => name.startsWith(p))))
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join("\0");
}

/**
 * The command with the job's temp dir replaced by a fixed name, and the compiler's resolved path
 * by the name it was asked for (its content is in the identity; where it is installed is not).
 */
export function normalizeCommand(command: readonly string[], jobDir: string, executable: string, compiler: string): string[] {
  return command.map((arg) => (arg === executable ? compiler : arg.replaceAll(jobDir, JOB_DIR)));
}

export function cacheKey(parts: KeyParts): Uint8Array {
  const hasher = new Bun.CryptoHasher("sha256");
  const field = (name: string, value: string | Uint8Array) => {
    const length = typeof value === "string" ? Buffer.byteLength(value) : value.length;
    hasher.update(`${name}:${length}:`);
    hasher.update(value);
  };
  field("format", KEY_FORMAT);
  field("compiler", parts.identity);
  field("argc", String(parts.command.length));
  for (const arg of parts.command) field("arg", arg);
  field("env", parts.environment);
  if ("source" in parts.input) {
    field("source", parts.input.source);
    if (parts.input.cwd !== undefined) field("cwd", parts.input.cwd);
  } else {
    field("cdir", parts.input.cdir);
    field("tree", parts.input.tree.sorted());
  }
  return hasher.digest() as Uint8Array;
}
