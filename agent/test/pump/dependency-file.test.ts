import { expect, test } from "bun:test";
import { cleanDependencyFile } from "../../src/pump/dependency-file.ts";

const clean = (text: string, target: string) =>
  new TextDecoder().decode(cleanDependencyFile(new TextEncoder().encode(text), "/tmp/d/output.o", target, "/tmp/d/root"));

test.each([
  [
    "the temp object becomes the -MT target",
    "/tmp/d/output.o: m.c \\\n /usr/include/stdio.h\n",
    "custom-target",
    "custom-target: m.c \\\n /usr/include/stdio.h\n",
  ],
  [
    "the root disappears from every path",
    "/tmp/d/output.o: /tmp/d/root/x/m.c \\\n /tmp/d/root/x/m.h\n",
    "m.o",
    "m.o: /x/m.c \\\n /x/m.h\n",
  ],
  ["only the first object path is the target", "/tmp/d/output.o: a.c\n/tmp/d/output.o.x:\n", "t", "t: a.c\n/tmp/d/output.o.x:\n"],
  ["an empty file stays empty", "", "m.o", ""],
])("%s", (_name, input, target, expected) => {
  expect(clean(input, target)).toBe(expected);
});

test("bytes that are not UTF-8 survive", () => {
  const input = new Uint8Array([...new TextEncoder().encode("/tmp/d/output.o: caf"), 0xe9, 0x2e, 0x63, 0x0a]);
  expect(cleanDependencyFile(input, "/tmp/d/output.o", "m.o", "/tmp/d/root")).toEqual(
    new Uint8Array([...new TextEncoder().encode("m.o: caf"), 0xe9, 0x2e, 0x63, 0x0a]),
  );
});
