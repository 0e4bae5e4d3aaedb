/**
 * @module A full temp disk (ENOSPC, EDQUOT) is the server's fault, not the request's: the error
 * it becomes (E_NO_SPACE), and the reply that tells the client so.
 */
import { ServerFaultError } from "../errors.ts";
import { type JobResult, serverMessage } from "./compile-job.ts";

/**
 * The STAT of a job lost to a full disk: SIGXFSZ as a raw wait status ("File size limit
 * exceeded" in the client's log). Debian's distcc 3.4 client takes a signal from the server for
 * a failure to distribute: it backs the host off, compiles the file locally (even under
 * DISTCC_SKIP_LOCAL_RETRY) and records no discrepancy; with DISTCC_FALLBACK=0 it prints our SERR.
 * An exit code such as 107 or 114 reads to it as a genuine compile error instead: a local retry
 * reported as "got a different result" (which demotes pump mode), or, with
 * DISTCC_SKIP_LOCAL_RETRY, a failed build and the full host not backed off.
 */
export const NO_SPACE_STATUS = 25;

const NO_SPACE_CODES = new Set(["ENOSPC", "EDQUOT"]);
/** What a compiler prints for ENOSPC and EDQUOT (glibc's strerror). */
const NO_SPACE_TEXT = /No space left on device|Disk quota exceeded/;
const decoder = new TextDecoder();

/** The fault a full disk becomes, or undefined for any other error. */
export function noSpaceFault(error: unknown, tmpDir: string, doing: string): ServerFaultError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !NO_SPACE_CODES.has(code)) return undefined;
  return new ServerFaultError("E_NO_SPACE", `the server's temp space is full (${code} ${doing} in TMPDIR ${tmpDir})`, { cause: error });
}

/** The reply for a job the disk had no room for: the compiler's own output first, when there is any. */
export function noSpaceResult(fault: ServerFaultError, compilerStderr: Uint8Array = new Uint8Array(0)): JobResult {
  const line = serverMessage("dcc_no_space", "error", `${fault.message}: compile it elsewhere`);
  const stderr = new Uint8Array(compilerStderr.length + line.length);
  stderr.set(compilerStderr);
  stderr.set(line, compilerStderr.length);
  return { status: NO_SPACE_STATUS, stdout: new Uint8Array(0), stderr, object: new Uint8Array(0), outcome: "no-space" };
}

/**
 * A failed compile that ran out of temp space, as the fault it is: the compiler said so, or it
 * said nothing while the disk is short of space (its words were lost). Undefined otherwise.
 */
export function compileNoSpaceFault(result: JobResult, tmpDir: string, spaceShort: boolean): ServerFaultError | undefined {
  if (result.outcome !== "error") return undefined;
  const said = NO_SPACE_TEXT.test(decoder.decode(result.stderr)) || NO_SPACE_TEXT.test(decoder.decode(result.stdout));
  if (said) return new ServerFaultError("E_NO_SPACE", `the server's temp space is full (the compiler ran out of room in TMPDIR ${tmpDir})`);
  if (result.stderr.length === 0 && result.stdout.length === 0 && spaceShort)
    return new ServerFaultError(
      "E_NO_SPACE",
      `the server's temp space is full (the compiler's output was lost for lack of space in TMPDIR ${tmpDir})`,
    );
  return undefined;
}
