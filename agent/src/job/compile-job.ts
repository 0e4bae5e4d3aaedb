/**
 * @module One compile, from a checked command line to a result: decides what runs (whitelist,
 * refused options), runs it with a deadline, and collects status, stdout, stderr and the object
 * (distcc-protocol.md §4, §5). Knows nothing of the wire.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { CompilerWhitelist } from "../compiler-whitelist.ts";
import { JobRefusedError } from "../errors.ts";
import { Logger } from "../log.ts";
import { rewritePumpArgs } from "../pump/pump-args.ts";
import { guardArguments } from "../sandbox/argument-firewall.ts";
import { preprocessedExtension, rewriteArgs, type ScannedArgs, scanArgs } from "./argv.ts";
import { recordCompilerGroup } from "./compiler-group.ts";
import { type OutputSink, openOutputSink } from "./output-sink.ts";
import type { RunningProcess, SpawnFn } from "./spawn.ts";

/** distcc exit codes carried in STAT as `code << 8` (distcc-protocol.md §5.1). */
const ExitCode = {
  BAD_ARGUMENTS: 101,
  IO_ERROR: 107,
  PROTOCOL_ERROR: 109,
  COMPILER_MISSING: 110,
  ACCESS_DENIED: 113,
  BUSY: 114,
  TIMEOUT: 118,
} as const;

export type JobOutcome = "ok" | "error" | "timeout" | "oversized" | "missing" | "refused" | "disconnect" | "no-space";

export interface JobResult {
  /** The raw wait status sent as STAT. */
  readonly status: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly object: Uint8Array;
  readonly outcome: JobOutcome;
}

export interface CompilePlan {
  readonly scanned: ScannedArgs;
  /** The compiler name as the whitelist knows it (for logs and messages). */
  readonly compiler: string;
  /** What runs; undefined when the name is allowed but not installed. */
  readonly executable: string | undefined;
  /** Where the received source goes (protocols 1 and 2). */
  readonly sourceFile: string;
  readonly objectFile: string;
  /** The command line as run, the executable first. */
  readonly command: readonly string[];
  /** Protocol 3: the dependency file the compiler writes, and the target to give it. */
  readonly dependencies?: { readonly file: string; readonly target: string };
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** A line for SERR in the C server's shape, so clients and scripts see familiar text. */
export function serverMessage(context: string, level: "error" | "critical" | "warning", message: string): Uint8Array {
  return encoder.encode(Logger.formatText(level, context, message));
}

/**
 * Checks argv and the compiler, and names the job's files; throws JobRefusedError. With a pump
 * `root` (protocol 3) the command is rewritten to run in the client's rebuilt tree.
 */
export function planCompile(argv: readonly string[], whitelist: CompilerWhitelist, jobDir: string, root?: string): CompilePlan {
  // The compiler is judged first, so a refused name is reported as such whatever its arguments.
  const decision = whitelist.check(argv[0] as string);
  if (!decision.allowed) throw new JobRefusedError("E_COMPILER_REFUSED", decision.reason);
  const scanned = guardArguments(scanArgs(argv), root === undefined ? "preprocessed" : "pump");
  const sourceFile = `${jobDir}/input${preprocessedExtension(scanned.input)}`;
  const objectFile = `${jobDir}/output.o`;
  const executable = decision.path ?? decision.name;
  if (root !== undefined) {
    const dependencyFile = `${jobDir}/output.d`;
    const pump = rewritePumpArgs(scanned, root, objectFile, dependencyFile);
    pump.command[0] = executable;
    const dependencies = { file: dependencyFile, target: pump.dependencyTarget };
    return { scanned, compiler: decision.name, executable: decision.path, sourceFile, objectFile, command: pump.command, dependencies };
  }
  const command = rewriteArgs(scanned, sourceFile, objectFile);
  command[0] = executable;
  return { scanned, compiler: decision.name, executable: decision.path, sourceFile, objectFile, command };
}

/** The reply for a job refused before anything ran: a failing STAT and an SERR that says why. */
export function refusedResult(error: JobRefusedError): JobResult {
  const insecure = error.code === "E_COMPILER_REFUSED" || error.code === "E_ARGS_INSECURE" || error.code.startsWith("E_FIREWALL_");
  const pump = error.code.startsWith("E_PUMP_") || error.code.startsWith("E_LIMIT_");
  const code = insecure ? ExitCode.ACCESS_DENIED : pump ? ExitCode.PROTOCOL_ERROR : ExitCode.BAD_ARGUMENTS;
  return {
    status: code << 8,
    stdout: EMPTY,
    stderr: serverMessage("dcc_check_compiler", "critical", error.message),
    object: EMPTY,
    outcome: "refused",
  };
}

/** The reply when too many jobs already wait: a status the client answers by compiling elsewhere. */
export function busyResult(maxQueue: number): JobResult {
  return {
    status: ExitCode.BUSY << 8,
    stdout: EMPTY,
    stderr: serverMessage("dcc_run_job", "warning", `server busy: ${maxQueue} jobs are already waiting for a compiler`),
    object: EMPTY,
    outcome: "refused",
  };
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly jobDir: string;
  /** 0: no deadline (`--job-lifetime`). */
  readonly lifetimeMs: number;
  /** A compiler whose stdout, stderr or object grows past this is killed. */
  readonly maxOutputBytes: number;
  /** Aborted when the client goes away: the compiler's process group is killed. */
  readonly signal: AbortSignal;
  readonly spawn: SpawnFn;
  /** Where the object file is read into: a buffer the caller gives back after the reply. */
  readonly buffer: (size: number) => Uint8Array;
}

/** After SIGTERM, a compiler gets this long before SIGKILL. */
const KILL_GRACE_MS = 2000;
/** How often a running compiler's output files are measured against --max-output-bytes. */
const OUTPUT_CHECK_MS = 250;

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Outputs are small and read once: a plain read beats an async Bun.file() round trip here. */
export function readIfPresent(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch {
    return EMPTY;
  }
}

/**
 * Reads a whole file into a buffer from `take`, which the caller gives back when it is done;
 * empty when the file is missing.
 */
function readInto(path: string, take: (size: number) => Uint8Array): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return EMPTY;
  }
  try {
    const size = fstatSync(fd).size;
    const bytes = take(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, bytes, filled, size - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return bytes.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

export async function runCompile(plan: CompilePlan, options: RunOptions): Promise<JobResult> {
  if (plan.executable === undefined) {
    return {
      status: ExitCode.COMPILER_MISSING << 8,
      stdout: EMPTY,
      stderr: serverMessage("dcc_execvp", "error", `failed to exec ${plan.compiler}: No such file or directory`),
      object: EMPTY,
      outcome: "missing",
    };
  }
  const stdout = openOutputSink(options.maxOutputBytes);
  const stderr = openOutputSink(options.maxOutputBytes);
  try {
    return await runCompiler(plan, options, stdout, stderr);
  } finally {
    stdout.close();
    stderr.close();
  }
}

async function runCompiler(plan: CompilePlan, options: RunOptions, stdoutSink: OutputSink, stderrSink: OutputSink): Promise<JobResult> {
  let proc: RunningProcess;
  try {
    // The job dir is the compiler's TMPDIR: a confined compiler can write nowhere else.
    const env = { ...options.env, TMPDIR: options.jobDir };
    proc = await options.spawn({
      cmd: plan.command,
      cwd: options.cwd,
      env,
      stdoutFd: stdoutSink.fd,
      stderrFd: stderrSink.fd,
      jobDir: options.jobDir,
    });
  } catch (cause) {
    return {
      status: ExitCode.COMPILER_MISSING << 8,
      stdout: EMPTY,
      stderr: serverMessage("dcc_execvp", "error", `failed to exec ${plan.compiler}: ${(cause as Error).message}`),
      object: EMPTY,
      outcome: "missing",
    };
  }
  stdoutSink.started();
  stderrSink.started();
  recordCompilerGroup(options.jobDir, proc.pid);
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    proc.killGroup("SIGTERM");
    killTimer ??= setTimeout(() => proc.killGroup("SIGKILL"), KILL_GRACE_MS);
  };
  const outputs = { stdout: stdoutSink.size, stderr: stderrSink.size, object: () => fileSize(plan.objectFile) };
  const oversized = () => Object.entries(outputs).find(([, size]) => size() > options.maxOutputBytes)?.[0];
  // A compiler that floods its outputs is stopped before it fills the disk or the memory.
  const watchOutput = setInterval(() => {
    if (oversized() !== undefined) stop();
  }, OUTPUT_CHECK_MS);
  const deadline =
    options.lifetimeMs > 0
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, options.lifetimeMs)
      : undefined;
  options.signal.addEventListener("abort", stop, { once: true });
  const exit = await proc.exited;
  clearTimeout(deadline);
  clearTimeout(killTimer);
  clearInterval(watchOutput);
  options.signal.removeEventListener("abort", stop);
  if (options.signal.aborted) return { status: ExitCode.IO_ERROR << 8, stdout: EMPTY, stderr: EMPTY, object: EMPTY, outcome: "disconnect" };
  // Collected before the sizes are judged: the last bytes may still have been in the pipes.
  const [stdout, stderr] = await Promise.all([stdoutSink.collect(), stderrSink.collect()]);
  const tooLarge = oversized();
  if (tooLarge !== undefined) {
    const message = serverMessage(
      "dcc_collect_child",
      "error",
      `compiler ${tooLarge} exceeds the limit of ${options.maxOutputBytes} bytes (--max-output-bytes)`,
    );
    return { status: ExitCode.IO_ERROR << 8, stdout: EMPTY, stderr: message, object: EMPTY, outcome: "oversized" };
  }
  if (timedOut) {
    const message = serverMessage("dcc_collect_child", "error", "Compilation takes too long, timeout.");
    return { status: ExitCode.TIMEOUT << 8, stdout, stderr: concat(stderr, message), object: EMPTY, outcome: "timeout" };
  }
  if (exit.exitCode === null && exit.signal === null) {
    // Reaped by something else (confined children are waited for by pid): never taken for success.
    const message = serverMessage("dcc_collect_child", "error", "the compiler's exit status was lost");
    return { status: ExitCode.IO_ERROR << 8, stdout, stderr: concat(stderr, message), object: EMPTY, outcome: "error" };
  }
  const status = exit.signal !== null ? exit.signal : (exit.exitCode ?? 0) << 8;
  if (status !== 0) return { status, stdout, stderr, object: EMPTY, outcome: "error" };
  const object = readInto(plan.objectFile, options.buffer);
  return { status, stdout, stderr, object, outcome: "ok" };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
