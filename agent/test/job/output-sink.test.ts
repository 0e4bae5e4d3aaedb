import { afterAll, expect, test } from "bun:test";
import { fstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openOutputSink } from "../../src/job/output-sink.ts";

const dir = mkdtempSync(join(tmpdir(), "output-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` with its stderr on the sink, and collects what it wrote. */
async function stderrOf(script: string, limit = 4 << 20): Promise<{ bytes: Uint8Array; size: number; pipe: boolean }> {
  const sink = openOutputSink(limit);
  const pipe = fstatSync(sink.fd).isFIFO();
  const proc = Bun.spawn(["sh", "-c", script], { stdin: "ignore", stdout: "ignore", stderr: sink.fd });
  sink.started();
  await proc.exited;
  const bytes = await sink.collect();
  sink.close();
  return { bytes, size: sink.size(), pipe };
}

test("a quick compiler's few words are read once it has exited, from a pipe (no file, no inode in TMPDIR)", async () => {
  const { bytes, pipe } = await stderrOf("echo 'x.c:1: error: expected ;' >&2");
  expect(pipe).toBe(true);
  expect(new TextDecoder().decode(bytes)).toBe("x.c:1: error: expected ;\n");
});

test("a slow compiler that writes more than a pipe holds is read as it writes, every byte in order", async () => {
  const { bytes } = await stderrOf("sleep 0.2; seq 1 200000 >&2");
  const text = new TextDecoder().decode(bytes);
  expect(text.length).toBe((await new Response(Bun.spawn(["seq", "1", "200000"]).stdout).text()).length);
  expect(text.startsWith("1\n2\n3\n")).toBe(true);
  expect(text.endsWith("199999\n200000\n")).toBe(true);
});

test("past the limit, bytes are counted but not kept", async () => {
  const { bytes, size } = await stderrOf("head -c 300000 /dev/zero >&2", 100_000);
  expect(size).toBe(300_000);
  expect(bytes.length).toBeLessThanOrEqual(100_000);
});
