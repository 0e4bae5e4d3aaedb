import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scrubDebugInfo } from "../../src/pump/debug-info.ts";

const base = mkdtempSync(join(tmpdir(), "debug-info-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Compiles in a directory standing for the fake root, as the agent's compiler runs. */
function compileUnder(compiler: string, flags: string[]): { object: Uint8Array; root: string } {
  const root = join(base, `distccd_${compiler.length}${flags.join("").length}/root`);
  const dir = join(root, "home/u/src");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "m.c"), "int answer(void) { return 42; }\n");
  const result = Bun.spawnSync([compiler, ...flags, "-c", join(dir, "m.c"), "-o", join(dir, "m.o")], { cwd: dir });
  if (result.exitCode !== 0) throw new Error(result.stderr.toString());
  return { object: new Uint8Array(readFileSync(join(dir, "m.o"))), root };
}

function dump(object: Uint8Array): string {
  const path = join(base, "dump.o");
  writeFileSync(path, object);
  return Bun.spawnSync(["readelf", "--debug-dump=info,line,str", path]).stdout.toString();
}

test.each([
  ["big-endian PowerPC, DWARF 5 (.debug_line_str)", "powerpc-linux-gnu-gcc", ["-g"]],
  ["big-endian PowerPC, DWARF 4 (.debug_line)", "powerpc-linux-gnu-gcc", ["-gdwarf-4"]],
  ["little-endian x86-64, DWARF 5", "gcc", ["-g"]],
])("%s: the root becomes slashes of the same length", (_name, compiler, flags) => {
  const { object, root } = compileUnder(compiler, flags);
  const size = object.length;
  expect(dump(object)).toContain(root);
  expect(scrubDebugInfo(object, root)).toBeGreaterThan(0);
  expect(object.length).toBe(size);
  const after = dump(object);
  expect(after).not.toContain(root);
  expect(after).toContain(`${"/".repeat(root.length)}/home/u/src`);
});

test("an object without debug info, and bytes that are not ELF, are left alone", () => {
  const { object, root } = compileUnder("powerpc-linux-gnu-gcc", ["-g0"]);
  const copy = object.slice();
  expect(scrubDebugInfo(object, root)).toBe(0);
  expect(object).toEqual(copy);
  expect(scrubDebugInfo(new TextEncoder().encode("not an object file at all, not even close"), "/x")).toBe(0);
});
