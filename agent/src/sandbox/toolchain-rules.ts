/**
 * @module What a compiler may read and execute, asked of the compiler itself: its own file and
 * directory, what it runs (`-print-prog-name`), its search dirs (`-print-search-dirs`), its
 * sysroot and system include dirs (`-E -v`), the shared libraries of each of those programs (from
 * their ELF interpreter's `--list`), the system's library dirs, and the dirs of the compilers'
 * PATH (a wrapper execs its compiler from there; whatever it runs is confined the same way).
 * Found once per compiler. A path that would open too much is never granted: `/` or any other
 * top-level dir but the library dirs (gcc's sysroot is often `/`), and the job dirs' parent.
 */
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { FILE_RIGHTS, FS, READ_EXECUTE } from "./landlock.ts";

export interface PathRule {
  readonly path: string;
  readonly access: number;
}

/** The programs a gcc or clang driver may start for a compile. */
const PROGRAMS = ["cc1", "cc1plus", "cc1obj", "cc1objplus", "as", "collect2", "ld", "lto-wrapper", "lto1"];
/** Read-only library paths on every glibc system; a path that does not exist is left out. */
const SYSTEM_LIBRARY_PATHS = [
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/usr/lib",
  "/usr/lib32",
  "/usr/lib64",
  "/usr/libx32",
  "/usr/local/lib",
  "/etc/ld.so.cache",
];
const PT_INTERP = 3;

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

async function output(cmd: string[], env: Readonly<Record<string, string | undefined>>): Promise<{ stdout: string; stderr: string }> {
  try {
    const proc = Bun.spawn(cmd, { env: env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr };
  } catch {
    return { stdout: "", stderr: "" };
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  const read = readSync(fd, bytes, 0, length, position);
  return bytes.subarray(0, read);
}

/** The ELF interpreter a program names (PT_INTERP), or the `#!` interpreter of a script. */
export function interpreterOf(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const head = readAt(fd, 0, 64);
    if (head[0] === 0x23 && head[1] === 0x21) return head.toString("latin1", 2).split("\n")[0]?.trim().split(/\s+/)[0];
    if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const wide = head[4] === 2;
    const little = head[5] === 1;
    const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const uword = (b: Buffer, at: number) => (wide ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
    const phoff = uword(head, wide ? 0x20 : 0x1c);
    const phentsize = u16(head, wide ? 0x36 : 0x2a);
    const phnum = u16(head, wide ? 0x38 : 0x2c);
    const headers = readAt(fd, phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const entry = headers.subarray(i * phentsize, (i + 1) * phentsize);
      if (entry.length < phentsize || u32(entry, 0) !== PT_INTERP) continue;
      const offset = uword(entry, wide ? 8 : 4);
      const size = uword(entry, wide ? 32 : 16);
      return readAt(fd, offset, size).toString("latin1").replace(/\0.*$/s, "");
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A program's interpreter and shared libraries, as the dynamic loader resolves them. */
async function runtimeFiles(program: string, env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const interpreter = interpreterOf(program);
  if (interpreter === undefined) return [];
  const files = [interpreter];
  const listed = await output([interpreter, "--list", program], env);
  for (const line of listed.stdout.split("\n")) {
    const path = line.match(/=>\s+(\/\S+)/)?.[1] ?? line.match(/^\s*(\/\S+)\s+\(/)?.[1];
    if (path !== undefined) files.push(path);
  }
  // A script's interpreter is a program too (and may itself be a script, once).
  if (!interpreter.includes(".so")) files.push(...(await runtimeFiles(interpreter, env)).filter((file) => file !== interpreter));
  return files;
}

function searchDirs(text: string): string[] {
  const dirs: string[] = [];
  for (const line of text.split("\n")) {
    const install = line.match(/^install: (.+)$/)?.[1];
    if (install !== undefined) dirs.push(install);
    const list = line.match(/^(?:programs|libraries): =?(.+)$/)?.[1];
    if (list !== undefined) dirs.push(...list.split(":"));
  }
  return dirs;
}

function includeDirs(text: string): string[] {
  const start = text.indexOf("#include <...> search starts here:");
  const end = text.indexOf("End of search list.");
  if (start < 0 || end < start) return [];
  return text
    .slice(start, end)
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/ \(framework directory\)$/, ""))
    .filter((line) => line.startsWith("/"));
}

/** True unless granting `path` would open far more than a toolchain (see the module comment). */
function grantable(path: string, tmpDir: string): boolean {
  if (path.split("/").filter(Boolean).length < 2 && !SYSTEM_LIBRARY_PATHS.includes(path)) return false;
  return !(`${tmpDir}/`.startsWith(`${path}/`) || path === tmpDir);
}

/**
 * Read and execute rights for what `executable` needs, every path resolved and present. `tmpDir`
 * holds the job dirs: neither it nor a dir above it is ever granted.
 */
export async function toolchainRules(
  executable: string,
  env: Readonly<Record<string, string | undefined>>,
  tmpDir: string,
): Promise<PathRule[]> {
  const compiler = real(executable) ?? executable;
  const ask = (...args: string[]) => output([executable, ...args], env);
  const [dirs, sysroot, cInclude, cxxInclude, ...programs] = await Promise.all([
    ask("-print-search-dirs"),
    ask("-print-sysroot"),
    ask("-E", "-v", "-x", "c", "/dev/null"),
    ask("-E", "-v", "-x", "c++", "/dev/null"),
    ...PROGRAMS.map((program) => ask(`-print-prog-name=${program}`)),
  ]);
  const programFiles = programs.map(({ stdout }) => stdout.trim()).filter((path) => path.startsWith("/") && existsSync(path));
  const executables = [compiler, ...programFiles];
  const libraries = (await Promise.all(executables.map((program) => runtimeFiles(program, env)))).flat();
  const candidates = [
    compiler,
    dirname(compiler),
    ...programFiles.map((path) => dirname(path)),
    ...searchDirs(dirs.stdout),
    sysroot.stdout.trim(),
    ...includeDirs(cInclude.stderr),
    ...includeDirs(cxxInclude.stderr),
    ...libraries,
    ...SYSTEM_LIBRARY_PATHS,
    ...(env.PATH ?? "").split(":"),
  ];
  const rules = new Map<string, PathRule>();
  for (const candidate of candidates) {
    if (!candidate.startsWith("/")) continue;
    const path = real(candidate);
    if (path === undefined || rules.has(path) || !grantable(path, real(tmpDir) ?? tmpDir)) continue;
    const isFile = statSync(path).isFile();
    rules.set(path, { path, access: isFile ? READ_EXECUTE & FILE_RIGHTS : READ_EXECUTE });
  }
  return withoutCovered([...rules.values()]);
}

/** Drops the rules beneath a dir granted the same rights or more: fewer rules, fewer calls per job. */
export function withoutCovered(rules: readonly PathRule[]): PathRule[] {
  const unique = [...new Map(rules.map((rule) => [`${rule.path}\0${rule.access}`, rule])).values()];
  return unique.filter(
    (rule) =>
      !unique.some(
        (other) => other !== rule && (other.path === "/" || rule.path.startsWith(`${other.path}/`)) && (rule.access & ~other.access) === 0,
      ),
  );
}

/** The job's own dir, and the devices a compiler opens by name. */
export function jobRules(jobDir: string, readWrite: number): PathRule[] {
  return [
    { path: jobDir, access: readWrite },
    { path: "/dev/null", access: FS.READ_FILE | FS.WRITE_FILE | FS.IOCTL_DEV },
    { path: "/dev/urandom", access: FS.READ_FILE },
    { path: "/dev/zero", access: FS.READ_FILE },
  ];
}
