/**
 * @module The client's files rebuilt under a job's fake root (protocol 3, distcc-protocol.md
 * §3.1-3.2), confined to it: no NAME may climb out with `..`, nothing is ever written through a
 * symlink, and a LINK may leave the root only to mirror its own path on this server (what the
 * include server sends for /usr/include and the compiler's own dirs).
 */
import { closeSync, constants, mkdirSync, openSync, rmdirSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { JobRefusedError, LimitError } from "../errors.ts";

export interface FileTreeLimits {
  /** Longest NAME or LINK target, in bytes. */
  readonly maxPathBytes: number;
  /** Most bytes of all files of one job together, after decompression. */
  readonly maxTotalBytes: number;
}

/** Told of each entry once it is in the tree (the compile cache keys pump jobs by them). */
export interface FileTreeObserver {
  file(name: string, data: Uint8Array): void;
  /** `mirrors`: the server path a link stands for when it mirrors this server's own directory. */
  link(name: string, target: string, mirrors?: string): void;
}

function refuse(code: string, message: string): never {
  throw new JobRefusedError(code, message);
}

/** `/a//b/c` -> ["a","b","c"]; `.`/`..` components and relative paths are refused. */
export function clientPathComponents(path: string, what: string, maxBytes: number): string[] {
  if (Buffer.byteLength(path) > maxBytes) refuse("E_PUMP_PATH_LENGTH", `${what} is longer than ${maxBytes} bytes`);
  if (!path.startsWith("/")) refuse("E_PUMP_PATH", `${what} "${path}" is not an absolute path`);
  const parts = path.split("/").filter((part) => part !== "");
  if (parts.some((part) => part === "." || part === "..")) refuse("E_PUMP_PATH", `${what} "${path}" contains "." or ".." (path traversal)`);
  return parts;
}

/**
 * Resolves `target` against `base` by text alone. Returns the components when the result stays
 * inside the client's root, or `escaped` with the path it lands on outside it.
 */
export function resolveLexically(base: readonly string[], target: string): { inside: string[] } | { escaped: string } {
  const stack = target.startsWith("/") ? [] : [...base];
  let climbedOut = 0;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") stack.push(part);
    else if (stack.length > 0) stack.pop();
    // Past the client's root the walk continues from the real `/`, where `..` stays put.
    else climbedOut++;
  }
  return climbedOut > 0 ? { escaped: `/${stack.join("/")}` } : { inside: stack };
}

/**
 * The tree starts as an empty directory that only this class writes to until the compiler runs,
 * so what exists under it is known without asking the file system: what this tree created.
 */
export class FileTree {
  /** Client paths (components joined by `/`) of the files and links created so far. */
  private readonly names = new Map<string, "file" | "link">();
  private readonly links = new Set<string>();
  /** Server paths of the directories this tree created. */
  private readonly directories = new Set<string>();
  /** Links that stay inside the root, checked for chains once every entry has arrived. */
  private readonly pendingTargets: { name: string; target: string; resolved: string }[] = [];
  private totalBytes = 0;

  constructor(
    /** The job's fake root: the client's `/`. */
    readonly root: string,
    private readonly limits: FileTreeLimits,
    private readonly observer?: FileTreeObserver,
  ) {
    mkdirSync(root, { mode: 0o755 });
  }

  /** The server path of a client path already checked by {@link clientPathComponents}. */
  private serverPath(parts: readonly string[]): string {
    return parts.length === 0 ? this.root : `${this.root}/${parts.join("/")}`;
  }

  /**
   * Creates each missing directory of `parts`, refusing to pass through a symlink or a file.
   * Nothing is looked up on disk (an lstat that fails throws, per directory, per job): a path
   * this tree has not created does not exist, and mkdir still refuses anything in the way.
   */
  private makeDirectories(parts: readonly string[], what: string): void {
    let path = this.root;
    let key = "";
    for (const [index, part] of parts.entries()) {
      path = `${path}/${part}`;
      key = index === 0 ? part : `${key}/${part}`;
      // A directory this tree made stays one: a LINK can never replace it (symlink fails on it).
      if (this.directories.has(path)) continue;
      const kind = this.names.get(key);
      if (kind === "link") refuse("E_PUMP_SYMLINK", `${what} passes through the symlink /${key}`);
      if (kind === "file") refuse("E_PUMP_PATH", `${what} passes through the file /${part}`);
      try {
        mkdirSync(path, { mode: 0o755 });
      } catch (cause) {
        refuse("E_PUMP_PATH", `${what}: /${key} cannot be created: ${(cause as Error).message}`);
      }
      this.directories.add(path);
    }
  }

  private claim(name: string, what: string, kind: "file" | "link"): string[] {
    const parts = clientPathComponents(name, what, this.limits.maxPathBytes);
    if (parts.length === 0) refuse("E_PUMP_PATH", `${what} names the root itself`);
    const key = parts.join("/");
    if (this.names.has(key)) refuse("E_PUMP_DUPLICATE", `${what} "${name}" is sent twice`);
    this.makeDirectories(parts.slice(0, -1), `${what} "${name}"`);
    this.names.set(key, kind);
    return parts;
  }

  /** The client's working directory (CDIR) made under the root; returns its server path. */
  makeWorkingDirectory(cdir: string): string {
    const parts = clientPathComponents(cdir, "CDIR", this.limits.maxPathBytes);
    this.makeDirectories(parts, `CDIR "${cdir}"`);
    return this.serverPath(parts);
  }

  writeFile(name: string, data: Uint8Array): void {
    this.totalBytes += data.length;
    if (this.totalBytes > this.limits.maxTotalBytes) {
      throw new LimitError("E_LIMIT_PUMP_BYTES", `the files of this job exceed the limit of ${this.limits.maxTotalBytes} bytes`);
    }
    const parts = this.claim(name, "NAME", "file");
    let fd: number;
    try {
      fd = openSync(this.serverPath(parts), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (cause) {
      refuse("E_PUMP_PATH", `NAME "${name}" cannot be created: ${(cause as Error).message}`);
    }
    try {
      let offset = 0;
      while (offset < data.length) offset += writeSync(fd, data, offset);
    } finally {
      closeSync(fd);
    }
    this.observer?.file(name, data);
  }

  addLink(name: string, target: string): void {
    if (target === "") refuse("E_PUMP_LINK", `LINK for "${name}" has an empty target`);
    if (Buffer.byteLength(target) > this.limits.maxPathBytes)
      refuse("E_PUMP_PATH_LENGTH", `LINK target for "${name}" is longer than ${this.limits.maxPathBytes} bytes`);
    const parts = this.claim(name, "NAME", "link");
    const resolved = resolveLexically(parts.slice(0, -1), target);
    let serverTarget: string;
    if ("escaped" in resolved) {
      // Only the include server's mirror of a system directory may leave the root: the link's
      // own path, meaning "this server's copy of it". A client on another distribution mirrors
      // directories this server lacks; such a link dangles, as under the C server, and the
      // compiler uses its own include dirs. Nothing is ever written through a link.
      if (resolved.escaped !== `/${parts.join("/")}`) {
        refuse("E_PUMP_LINK", `LINK "${name}" -> "${target}" escapes the job root (to ${resolved.escaped})`);
      }
      serverTarget = resolved.escaped;
    } else {
      serverTarget = this.serverPath(resolved.inside);
      this.links.add(parts.join("/"));
      this.pendingTargets.push({ name, target, resolved: resolved.inside.join("/") });
    }
    try {
      symlinkSync(serverTarget, this.serverPath(parts));
    } catch (cause) {
      refuse("E_PUMP_PATH", `LINK "${name}" cannot be created: ${(cause as Error).message}`);
    }
    this.observer?.link(name, target, "escaped" in resolved ? resolved.escaped : undefined);
  }

  /**
   * Removes what this tree created, deepest first: one unlink or rmdir per entry, where a
   * recursive removal would list and probe every directory. False when something else is left
   * (a file the compiler wrote into the tree): the caller then removes the rest recursively.
   */
  remove(): boolean {
    try {
      for (const key of this.names.keys()) unlinkSync(`${this.root}/${key}`);
      const deepestFirst = [...this.directories].sort((a, b) => b.length - a.length);
      for (const directory of deepestFirst) rmdirSync(directory);
      rmdirSync(this.root);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * After the last entry: a link inside the root may not point into or through another link of
   * the same job (a chain the text check above cannot follow).
   */
  finish(): void {
    for (const { name, target, resolved } of this.pendingTargets) {
      const parts = resolved.split("/");
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join("/");
        if (this.links.has(prefix)) refuse("E_PUMP_LINK", `LINK "${name}" -> "${target}" goes through the link /${prefix} (symlink chain)`);
      }
    }
  }
}
