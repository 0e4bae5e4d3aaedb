/**
 * LZO1X-1 throughput of our TypeScript codec against liblzo2 (through Debian's python3-lzo) on
 * the same data, in MB/s of uncompressed bytes.
 */
import { readFileSync } from "node:fs";
import { compress, decompress } from "../agent/src/lzo/lzo1x.ts";
import { median } from "./median.ts";

export interface Throughput {
  readonly compress: number;
  readonly decompress: number;
}

const ROUNDS = 10;
/** Passes before timing, on both sides: a long-running agent decodes with a warmed-up JIT. */
const WARMUP = 3;

function oursThroughput(data: Uint8Array): Throughput {
  const packed = compress(data);
  for (let i = 0; i < WARMUP; i++) {
    compress(data);
    decompress(packed, data.length * 2);
  }
  let start = performance.now();
  for (let i = 0; i < ROUNDS; i++) compress(data);
  const compressSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  for (let i = 0; i < ROUNDS; i++) decompress(packed, data.length * 2);
  const decompressSeconds = (performance.now() - start) / 1000;
  const mb = (data.length * ROUNDS) / 1e6;
  return { compress: mb / compressSeconds, decompress: mb / decompressSeconds };
}

function cThroughput(file: string): Throughput {
  const script = `
import lzo, sys, time
data = open(sys.argv[1], 'rb').read()
packed = lzo.compress(data, 1, False)
for _ in range(${WARMUP}):
    lzo.compress(data, 1, False)
    lzo.decompress(packed, False, len(data))
t = time.perf_counter()
for _ in range(${ROUNDS}): lzo.compress(data, 1, False)
c = time.perf_counter() - t
t = time.perf_counter()
for _ in range(${ROUNDS}): lzo.decompress(packed, False, len(data))
d = time.perf_counter() - t
mb = len(data) * ${ROUNDS} / 1e6
print(mb / c, mb / d)
`;
  const run = Bun.spawnSync(["/usr/bin/python3", "-c", script, file]);
  if (run.exitCode !== 0) throw new Error(run.stderr.toString());
  const [compressRate = 0, decompressRate = 0] = run.stdout.toString().trim().split(/\s+/).map(Number);
  return { compress: compressRate, decompress: decompressRate };
}

/**
 * Ours and C alternately, `rounds` times, and the median of each rate: one pass of each can land
 * on a moment when the machine is busy with something else (writeback after the workloads).
 */
export function compareThroughput(file: string, rounds: number): { ours: Throughput; c: Throughput } {
  const data = new Uint8Array(readFileSync(file));
  const ours: Throughput[] = [];
  const c: Throughput[] = [];
  for (let i = 0; i < rounds; i++) {
    ours.push(oursThroughput(data));
    c.push(cThroughput(file));
  }
  const medians = (all: Throughput[]) => ({
    compress: median(all.map((t) => t.compress)),
    decompress: median(all.map((t) => t.decompress)),
  });
  return { ours: medians(ours), c: medians(c) };
}
