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

/** Memory a held tree's file contents count against; past it, the tree goes to disk at once. */
export interface HeldBytes {
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

/** One step of building the tree on disk, in the order the request named it. */
type DiskStep =
  | { readonly kind: "directory"; readonly path: string; readonly key: string; readonly what: string }
  | { readonly kind: "file"; readonly path: string; readonly name: string; readonly data: Uint8Array }
  | { readonly kind: "link"; readonly path: string; readonly name: string; readonly target: string };

/**
 * The tree starts as an empty directory that only this class writes to until the compiler runs,
 * so what exists under it is known without asking the file system: what this tree created.
 * Every check is made on that knowledge as each entry arrives. With `hold`, nothing is written
 * until {@link materialize}: a job the compile cache answers never touches the disk for its
 * tree (a dozen mkdir, open and symlink calls and as many removals, per job).
 */
export class FileTree {
  /** Client paths (components joined by `/`) of the files and links claimed so far. */
  private readonly names = new Map<string, "file" | "link">();
  private readonly links = new Set<string>();
  /** Server paths of the directories this tree claimed. */
  private readonly directories = new Set<string>();
  /** Links that stay inside the root, checked for chains once every entry has arrived. */
  private readonly pendingTargets: { name: string; target: string; resolved: string }[] = [];
  private totalBytes = 0;
  /** Steps not yet on disk; undefined once the tree writes as it goes. */
  private held: DiskStep[] | undefined;
  private heldBytes = 0;
  /** Server paths of the files and links, then of the directories, that are on disk. */
  private readonly createdEntries: string[] = [];
  private readonly createdDirectories: string[] = [];
  private rootCreated = false;

  constructor(
    /** The job's fake root: the client's `/`. */
    readonly root: string,
    private readonly limits: FileTreeLimits,
    private readonly observer?: FileTreeObserver,
    private readonly hold?: HeldBytes,
  ) {
    if (hold === undefined) this.createRoot();
    else this.held = [];
  }

  private createRoot(): void {
    mkdirSync(this.root, { mode: 0o755 });
    this.rootCreated = true;
  }

  /** The server path of a client path already checked by {@link clientPathComponents}. */
  private serverPath(parts: readonly string[]): string {
    return parts.length === 0 ? this.root : `${this.root}/${parts.join("/")}`;
  }

  /** Runs a step now, or keeps it for {@link materialize}. */
  private step(step: DiskStep): void {
    if (this.held === undefined) this.apply(step);
    else this.held.push(step);
  }

  private apply(step: DiskStep): void {
    switch (step.kind) {
      case "directory":
        try {
          mkdirSync(step.path, { mode: 0o755 });
        } catch (cause) {
          refuse("E_PUMP_PATH", `${step.what}: /${step.key} cannot be created: ${(cause as Error).message}`);
        }
        this.createdDirectories.push(step.path);
        return;
      case "file": {
        let fd: number;
        try {
          fd = openSync(step.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        } catch (cause) {
          refuse("E_PUMP_PATH", `NAME "${step.name}" cannot be created: ${(cause as Error).message}`);
        }
        this.createdEntries.push(step.path);
        try {
          let offset = 0;
          while (offset < step.data.length) offset += writeSync(fd, step.data, offset);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case "link":
        try {
          symlinkSync(step.target, step.path);
        } catch (cause) {
          refuse("E_PUMP_PATH", `LINK "${step.name}" cannot be created: ${(cause as Error).message}`);
        }
        this.createdEntries.push(step.path);
        return;
    }
  }

  /**
   * Writes what is held, in the order it arrived, with the same refusals as writing at once;
   * from then on the tree writes as it goes. Throws JobRefusedError, or the file system's error
   * when it is full.
   */
  materialize(): void {
    const steps = this.held;
    if (steps === undefined) return;
    this.held = undefined;
    this.releaseHeld();
    this.createRoot();
    for (const step of steps) this.apply(step);
  }

  private releaseHeld(): void {
    this.hold?.release(this.heldBytes);
    this.heldBytes = 0;
  }

  /**
   * Claims each missing directory of `parts`, refusing to pass through a symlink or a file.
   * Nothing is looked up on disk (an lstat that fails throws, per directory, per job): a path
   * this tree has not created does not exist, and mkdir still refuses anything in the way.
   */
  private makeDirectories(parts: readonly string[], what: string): void {
    let path = this.root;
    let key = "";
    for (const [index, part] of parts.entries()) {
      path = `${path}/${part}`;
      key = index === 0 ? part : `${key}/${part}`;
      // A directory this tree made stays one: a LINK can never replace it (see claim).
      if (this.directories.has(path)) continue;
      const kind = this.names.get(key);
      if (kind === "link") refuse("E_PUMP_SYMLINK", `${what} passes through the symlink /${key}`);
      if (kind === "file") refuse("E_PUMP_PATH", `${what} passes through the file /${part}`);
      this.step({ kind: "directory", path, key, what });
      this.directories.add(path);
    }
  }

  private claim(name: string, what: string, kind: "file" | "link"): string[] {
    const parts = clientPathComponents(name, what, this.limits.maxPathBytes);
    if (parts.length === 0) refuse("E_PUMP_PATH", `${what} names the root itself`);
    const key = parts.join("/");
    if (this.names.has(key)) refuse("E_PUMP_DUPLICATE", `${what} "${name}" is sent twice`);
    // What the exclusive create or symlink would refuse on disk, refused before anything is held.
    if (this.directories.has(this.serverPath(parts))) refuse("E_PUMP_PATH", `${what} "${name}" cannot be created: it is a directory`);
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

  /** `data` is only lent: a held tree keeps a copy. */
  writeFile(name: string, data: Uint8Array): void {
    this.totalBytes += data.length;
    if (this.totalBytes > this.limits.maxTotalBytes) {
      throw new LimitError("E_LIMIT_PUMP_BYTES", `the files of this job exceed the limit of ${this.limits.maxTotalBytes} bytes`);
    }
    const parts = this.claim(name, "NAME", "file");
    const path = this.serverPath(parts);
    if (this.held !== undefined && !this.hold?.reserve(data.length)) this.materialize();
    if (this.held === undefined) this.apply({ kind: "file", path, name, data });
    else {
      this.heldBytes += data.length;
      this.held.push({ kind: "file", path, name, data: new Uint8Array(data) });
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
    this.step({ kind: "link", path: this.serverPath(parts), name, target: serverTarget });
    this.observer?.link(name, target, "escaped" in resolved ? resolved.escaped : undefined);
  }

  /**
   * Removes what this tree created, deepest first: one unlink or rmdir per entry, where a
   * recursive removal would list and probe every directory. False when something else is left
   * (a file the compiler wrote into the tree): the caller then removes the rest recursively.
   * A held tree that never reached the disk only gives its memory back.
   */
  remove(): boolean {
    this.held = undefined;
    this.releaseHeld();
    try {
      for (const path of this.createdEntries.splice(0)) unlinkSync(path);
      const deepestFirst = this.createdDirectories.splice(0).sort((a, b) => b.length - a.length);
      for (const directory of deepestFirst) rmdirSync(directory);
      if (this.rootCreated) rmdirSync(this.root);
      this.rootCreated = false;
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
