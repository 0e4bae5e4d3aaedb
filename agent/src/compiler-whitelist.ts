/**
 * @module Which compilers a client may run, and which binary each name runs
 * (distcc-protocol.md §4.3, §4.4). A whitelist file alone decides when there is one;
 * otherwise the C server's rules apply: `DISTCC_CMDLIST`, or the masquerade directory.
 */
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { ConfigError } from "./errors.ts";
import { atStartup } from "./startup/path-errors.ts";

/** The C server's compiled-in masquerade directory, also the default whitelist's home. */
const MASQUERADE_DIR = "/usr/lib/distcc";
const DEFAULT_WHITELIST_FILE = `${MASQUERADE_DIR}/whitelist`;

export type CompilerDecision =
  /** `path` is what runs; undefined when the name is allowed but not installed (exit 110). */
  { allowed: true; name: string; path: string | undefined } | { allowed: false; reason: string };

export interface CompilerWhitelist {
  /** Where the decision comes from, named in refusals so the operator knows what to edit. */
  readonly source: string;
  /** Names known up front (whitelist file or DISTCC_CMDLIST), for the start-up log. */
  readonly names: readonly string[];
  check(argv0: string): CompilerDecision;
}

export interface WhitelistOptions {
  /** `--whitelist FILE`; when absent, the default file is used if it exists. */
  readonly file: string | undefined;
  readonly insecure: boolean;
  /** The PATH the compilers are looked up in (DISTCCD_PATH or PATH). */
  readonly path: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The C server's QtCreator rule: `/bin/` and `/usr/bin/` prefixes name the same compiler. */
function stripSystemPrefix(argv0: string): string {
  const lower = argv0.toLowerCase();
  if (lower.startsWith("/usr/bin/")) return argv0.slice("/usr/bin/".length);
  if (lower.startsWith("/bin/")) return argv0.slice("/bin/".length);
  return argv0;
}

/**
 * Looks a compiler name up on PATH without the masquerade directory, and skips anything that
 * is a distcc wrapper, so a job can never re-enter distcc.
 */
export function findCompiler(name: string, searchPath: string): string | undefined {
  const key = `${searchPath}\0${name}`;
  const cached = lookups.get(key);
  const now = Date.now();
  if (cached && now - cached.at < LOOKUP_TTL_MS) return cached.path;
  const path = searchCompiler(name, searchPath);
  lookups.set(key, { path, at: now });
  return path;
}

/**
 * Every job looks its compiler up; a few seconds' memory saves the PATH walk on busy servers
 * while a newly installed compiler is still found promptly.
 */
const LOOKUP_TTL_MS = 5000;
const lookups = new Map<string, { path: string | undefined; at: number }>();

function searchCompiler(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(":")) {
    if (dir === "" || dir === MASQUERADE_DIR || dir === `${MASQUERADE_DIR}/`) continue;
    const candidate = `${dir}/${name}`;
    if (!isExecutableFile(candidate)) continue;
    const real = realpathSync(candidate);
    if (real.startsWith(`${MASQUERADE_DIR}/`) || /\/distcc$/.test(real)) continue;
    return candidate;
  }
  return undefined;
}

function parseWhitelistFile(file: string): string[] {
  const text = atStartup("read whitelist", file, () => readFileSync(file, "utf8"));
  const names: string[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const name = stripSystemPrefix(line);
    if (name.includes("/") || /\s/.test(name)) {
      throw new ConfigError("E_CONFIG_WHITELIST", `${file}:${index + 1}: "${line}" is not a compiler name (one bare name per line)`);
    }
    names.push(name);
  }
  return names;
}

/** `DISTCC_CMDLIST`: full paths, looked up by their last N components (C `dcc_remap_compiler`). */
function cmdlistWhitelist(file: string, words: number, options: WhitelistOptions): CompilerWhitelist {
  const source = `DISTCC_CMDLIST file ${file}`;
  let entries: Map<string, string> | undefined;
  let error = "";
  const key = (path: string) => path.split("/").slice(-words).join("/");
  try {
    entries = new Map(
      readFileSync(file, "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .map((line) => [key(line), line]),
    );
  } catch (cause) {
    // The C server treats an unreadable list as "no checks at all"; we refuse everything.
    error = `cannot read ${source}: ${(cause as Error).message}`;
  }
  return {
    source,
    names: entries ? [...entries.keys()] : [],
    check(argv0) {
      if (!entries) return { allowed: false, reason: error };
      const full = entries.get(key(argv0));
      if (full === undefined) return { allowed: false, reason: `lookup of ${argv0} in ${source} failed` };
      const path = full.includes("/") ? (isExecutableFile(full) ? full : undefined) : findCompiler(full, options.path);
      return { allowed: true, name: full, path };
    },
  };
}

/** Builds the whitelist from the options; fails fast on a file that is given but unusable. */
export function loadCompilerWhitelist(options: WhitelistOptions): CompilerWhitelist {
  const resolveName = (name: string): CompilerDecision => ({ allowed: true, name, path: findCompiler(name, options.path) });
  if (options.insecure) {
    return {
      source: "--enable-tcp-insecure (no compiler checks)",
      names: [],
      check(argv0) {
        if (argv0.includes("/")) return { allowed: true, name: argv0, path: isExecutableFile(argv0) ? argv0 : undefined };
        return resolveName(argv0);
      },
    };
  }
  const refuseAbsolute = (argv0: string, source: string): CompilerDecision => ({
    allowed: false,
    reason: `compiler name ${argv0} cannot be a path outside /bin and /usr/bin: list its bare name in ${source}, or pass --enable-tcp-insecure`,
  });
  const file = options.file ?? (existsSync(DEFAULT_WHITELIST_FILE) ? DEFAULT_WHITELIST_FILE : undefined);
  if (file !== undefined) {
    const names = parseWhitelistFile(file);
    const allowed = new Set(names);
    const source = `whitelist file ${file}`;
    return {
      source,
      names,
      check(argv0) {
        const name = stripSystemPrefix(argv0);
        if (name.includes("/")) return refuseAbsolute(argv0, source);
        if (!allowed.has(name))
          return { allowed: false, reason: `compiler ${name} is not in the ${source}: add it there (one name a line) to allow it` };
        return resolveName(name);
      },
    };
  }
  const cmdlist = options.env.DISTCC_CMDLIST;
  if (cmdlist !== undefined && cmdlist !== "") {
    const words = Number.parseInt(options.env.DISTCC_CMDLIST_NUMWORDS ?? "1", 10);
    return cmdlistWhitelist(cmdlist, Number.isFinite(words) && words > 0 ? words : 1, options);
  }
  if (!existsSync(MASQUERADE_DIR)) {
    throw new ConfigError(
      "E_CONFIG_NO_WHITELIST",
      `no compiler whitelist: create ${DEFAULT_WHITELIST_FILE} (one compiler name a line), pass --whitelist FILE, or set up ${MASQUERADE_DIR}`,
    );
  }
  const source = `masquerade directory ${MASQUERADE_DIR}`;
  return {
    source,
    names: [],
    check(argv0) {
      const name = stripSystemPrefix(argv0);
      if (name.includes("/")) return refuseAbsolute(argv0, source);
      if (!isExecutableFile(`${MASQUERADE_DIR}/${name}`)) {
        return {
          allowed: false,
          reason: `compiler ${name} is not in the ${source}: add ${MASQUERADE_DIR}/${name}, or list it in ${DEFAULT_WHITELIST_FILE}`,
        };
      }
      return resolveName(name);
    },
  };
}
