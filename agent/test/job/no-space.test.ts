import { expect, test } from "bun:test";
import type { JobResult } from "../../src/job/compile-job.ts";
import { compileNoSpaceFault, NO_SPACE_STATUS, noSpaceFault, noSpaceResult } from "../../src/job/no-space.ts";

const encoder = new TextEncoder();
const failed = (stderr: string, outcome: JobResult["outcome"] = "error"): JobResult => ({
  status: 1 << 8,
  stdout: new Uint8Array(0),
  stderr: encoder.encode(stderr),
  object: new Uint8Array(0),
  outcome,
});
const errno = (code: string) => Object.assign(new Error(code), { code });

test("ENOSPC and EDQUOT are the server's fault; other errors are not", () => {
  expect(noSpaceFault(errno("ENOSPC"), "/tmp", "storing the request")?.code).toBe("E_NO_SPACE");
  expect(noSpaceFault(errno("EDQUOT"), "/tmp", "storing the request")?.message).toBe(
    "the server's temp space is full (EDQUOT storing the request in TMPDIR /tmp)",
  );
  expect(noSpaceFault(errno("EACCES"), "/tmp", "storing the request")).toBeUndefined();
  expect(noSpaceFault(new Error("no code"), "/tmp", "storing the request")).toBeUndefined();
});

test("a compile that ran out of space keeps the compiler's words, then says whose fault it was", () => {
  const words = "x.s: Fatal error: can't write 4 bytes to section .text of x.o: 'No space left on device'\n";
  const fault = compileNoSpaceFault(failed(words), "/tmp", false);
  expect(fault?.code).toBe("E_NO_SPACE");
  const result = noSpaceResult(fault as NonNullable<typeof fault>, encoder.encode(words));
  expect(result.status).toBe(NO_SPACE_STATUS);
  expect(result.outcome).toBe("no-space");
  const stderr = new TextDecoder().decode(result.stderr);
  expect(stderr.startsWith(words)).toBe(true);
  expect(stderr.slice(words.length)).toMatch(
    /^distccd\[\d+\] \(dcc_no_space\) ERROR: the server's temp space is full \(the compiler ran out of room in TMPDIR \/tmp\): compile it elsewhere\n$/,
  );
});

test("a compile that failed silently on a short disk gets one line saying its output was lost", () => {
  expect(compileNoSpaceFault(failed(""), "/tmp", true)?.message).toBe(
    "the server's temp space is full (the compiler's output was lost for lack of space in TMPDIR /tmp)",
  );
  // With room to spare, a silent failure is the compiler's own.
  expect(compileNoSpaceFault(failed(""), "/tmp", false)).toBeUndefined();
  // A genuine compile error stays one, however short the disk.
  expect(compileNoSpaceFault(failed("x.c:1:9: error: expected ';'\n"), "/tmp", true)).toBeUndefined();
  expect(compileNoSpaceFault(failed("", "timeout"), "/tmp", true)).toBeUndefined();
});
