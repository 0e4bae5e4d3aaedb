/**
 * @module The files and directories start-up needs (log file, pid file, whitelist, TMPDIR),
 * opened or checked so that a failure is one line in the C server's words
 * (`cannot open log file PATH: Permission denied`), never a stack trace.
 */
import { accessSync, constants, statSync, writeFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";

/**
 * A start-up path the agent cannot use: a ConfigError, which main tells apart to exit with the
 * C server's EXIT_IO_ERROR (107) instead of 101.
 */
export class StartupPathError extends ConfigError {}

/** strerror(3) wording for what start-up paths run into; libuv's text for anything rarer. */
const STRERROR: Readonly<Record<string, string>> = {
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  EDQUOT: "Disk quota exceeded",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  EMFILE: "Too many open files",
  ENXIO: "No such device or address",
  ETXTBSY: "Text file busy",
};

/** The reason an fs call failed, as the C server prints it after the path. */
export function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const known = STRERROR[code];
  if (known) return known;
  // libuv messages read "ECODE: description, syscall 'path'": keep the description.
  const description = ((error as Error).message ?? String(error)).replace(/^[A-Z]+: /, "").replace(/, \w+ .*$/, "");
  return description.charAt(0).toUpperCase() + description.slice(1);
}

/** Runs an fs action; its failure becomes "cannot <what> PATH: <reason>". */
export function atStartup<T>(what: string, path: string, action: () => T): T {
  try {
    return action();
  } catch (cause) {
    throw new StartupPathError("E_STARTUP_PATH", `cannot ${what} ${path}: ${reason(cause)}`, { cause });
  }
}

export function writePidFile(path: string, pid: number): void {
  atStartup("write pid file", path, () => writeFileSync(path, `${pid}\n`));
}

/** Job dirs are made under TMPDIR: it must be a directory this user can create files in. */
export function checkTmpDir(path: string): void {
  atStartup("use TMPDIR", path, () => {
    if (!statSync(path).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    accessSync(path, constants.W_OK | constants.X_OK);
  });
}
