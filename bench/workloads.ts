/**
 * Generates the benchmark's sources (nothing third-party is vendored): 200 small translation
 * units that include common system headers, one large unit (over 5 MB preprocessed), and a tiny
 * unit for the concurrency workload.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Workloads {
  readonly dir: string;
  /** Paths relative to `dir`. */
  readonly small: readonly string[];
  readonly large: string;
  readonly tiny: string;
}

const HEADERS = ["stdio.h", "stdlib.h", "string.h", "math.h", "ctype.h", "errno.h", "stdint.h", "time.h"];

export function generateWorkloads(dir: string, smallCount = 200): Workloads {
  mkdirSync(join(dir, "small/include"), { recursive: true });
  writeFileSync(
    join(dir, "small/include/common.h"),
    "#ifndef COMMON_H\n#define COMMON_H\nstruct item { int id; double weight; char name[32]; };\nint checksum(const struct item *items, int n);\n#endif\n",
  );
  const small: string[] = [];
  for (let i = 0; i < smallCount; i++) {
    const name = `small/unit${String(i).padStart(3, "0")}.c`;
    const includes = HEADERS.map((h) => `#include <${h}>`).join("\n");
    writeFileSync(
      join(dir, name),
      `${includes}\n#include "common.h"\n\nstatic double scale_${i}(double x) { return sqrt(fabs(x)) * ${i + 1}.5; }\n\n` +
        `int work_${i}(struct item *items, int n) {\n  int total = 0;\n  for (int k = 0; k < n; k++) {\n` +
        `    items[k].weight = scale_${i}(items[k].weight + k);\n    snprintf(items[k].name, sizeof items[k].name, "item-%d-%d", ${i}, k);\n` +
        `    total += (int)strlen(items[k].name) + toupper(items[k].name[0]) + (errno == ERANGE);\n  }\n  qsort(items, (size_t)n, sizeof *items, NULL == items ? NULL : 0);\n  return total + (int)time(NULL) % 7;\n}\n`,
    );
    small.push(name);
  }
  // About 5.5 MB of initializer text: large on the wire and for LZO, quick for gcc to parse.
  const values: string[] = [];
  let seed = 12345;
  for (let i = 0; i < 1_100_000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values.push(String(seed % 1000));
  }
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 40) lines.push(`  ${values.slice(i, i + 40).join(", ")},`);
  writeFileSync(
    join(dir, "large.c"),
    `#include <stdio.h>\nstatic const unsigned short table[] = {\n${lines.join("\n")}\n};\nint lookup(int i) { return table[i % (sizeof table / sizeof table[0])]; }\n`,
  );
  writeFileSync(join(dir, "tiny.c"), "int tiny(int x) { return x * 3 + 1; }\n");
  return { dir, small, large: "large.c", tiny: "tiny.c" };
}
