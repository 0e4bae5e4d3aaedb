/**
 * The real distcc client and the real PowerPC cross compilers against the built agent.
 * Every compile must run remotely: fallback and local retry are off, so a server failure fails
 * the test instead of being hidden by a local compile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compress } from "../../src/lzo/lzo1x.ts";
import { MAX_BODY_IN_MEMORY } from "../../src/server/connection.ts";
import { type Agent, jobLeftovers, startAgent } from "../helpers/agent.ts";
import { distcc, run } from "../helpers/distcc.ts";
import { GCC, GXX, SYSROOT } from "../helpers/toolchain.ts";
import { workspace } from "../helpers/workspace.ts";

let agent: Agent;
beforeAll(async () => {
  agent = await startAgent();
});
afterAll(async () => {
  await agent[Symbol.asyncDispose]();
});

const hosts = (protocol: 1 | 2) => `127.0.0.1:${agent.port}${protocol === 2 ? ",lzo" : ""}`;

/** Compiles through distcc, then locally with the same arguments, and compares the objects. */
async function compileBoth(dir: string, protocol: 1 | 2, compiler: string, args: string[], output: string) {
  const remote = await distcc([compiler, ...args, "-o", output], { hosts: hosts(protocol), cwd: dir });
  expect(remote).toMatchObject({ exitCode: 0 });
  expect(remote.log).toContain(`on 127.0.0.1:${agent.port}${protocol === 2 ? ",lzo" : ""} completed ok`);
  const local = await run([compiler, ...args, "-o", `${output}.local`], dir);
  expect(local.exitCode).toBe(0);
  expect(readFileSync(join(dir, output))).toEqual(readFileSync(join(dir, `${output}.local`)));
}

describe.each([1, 2] as const)("protocol %d", (protocol) => {
  test("a multi-file C program: objects equal a local compile, and it runs under qemu", async () => {
    const dir = workspace();
    for (const name of ["main", "geometry"]) {
      await compileBoth(dir, protocol, GCC, ["-O2", "-g0", "-Iinclude", "-c", `src/${name}.c`], `${name}.o`);
    }
    expect((await run([GCC, "main.o", "geometry.o", "-o", "prog"], dir)).exitCode).toBe(0);
    const program = await run(["qemu-ppc-static", "-L", SYSROOT, "./prog", "x"], dir);
    expect(program).toMatchObject({ exitCode: 0, stdout: "manhattan=7 area=12 args=2\n" });
  });

  test("a C++ program: the object equals a local compile, and it runs under qemu", async () => {
    const dir = workspace();
    await compileBoth(dir, protocol, GXX, ["-O2", "-std=c++17", "-c", "src/shapes.cpp"], "shapes.o");
    expect((await run([GXX, "shapes.o", "-o", "shapes"], dir)).exitCode).toBe(0);
    const program = await run(["qemu-ppc-static", "-L", SYSROOT, "./shapes"], dir);
    expect(program).toMatchObject({ exitCode: 0, stdout: "total area 30\n" });
  });

  test("warnings come back with the compiler's text and a successful status", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "warn.c"), "int f(void) { int unused; return 0; }\n");
    const result = await distcc([GCC, "-Wall", "-c", "warn.c", "-o", "warn.o"], { hosts: hosts(protocol), cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("warning: unused variable ‘unused’");
    expect(existsSync(join(dir, "warn.o"))).toBe(true);
  });

  test("errors come back with the compiler's text and exit status, and no object", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "bad.c"), "int x = ;\n");
    const result = await distcc([GCC, "-c", "bad.c", "-o", "bad.o"], { hosts: hosts(protocol), cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("bad.c:1:9: error: expected expression");
    expect(existsSync(join(dir, "bad.o"))).toBe(false);
  });

  test.each([
    ["-o FILE", ["-c", "src/geometry.c", "-o", "out.o"], "out.o"],
    ["-oFILE", ["-c", "src/geometry.c", "-oout.o"], "out.o"],
    ["-c with the output implied", ["-c", "src/geometry.c"], "geometry.o"],
    ["-o into a subdirectory", ["-c", "src/geometry.c", "-o", "src/nested.o"], "src/nested.o"],
  ])("%s", async (_name, args, output) => {
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", ...args], { hosts: hosts(protocol), cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("completed ok");
    expect(readFileSync(join(dir, output)).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });

  test("-S returns assembler text", async () => {
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", "-S", "src/geometry.c", "-o", "geometry.s"], { hosts: hosts(protocol), cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(dir, "geometry.s"), "utf8")).toContain("manhattan:");
  });

  test("-MD writes the dependency file on the client", async () => {
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", "-MD", "-c", "src/main.c", "-o", "main.o"], { hosts: hosts(protocol), cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("completed ok");
    expect(readFileSync(join(dir, "main.d"), "utf8")).toContain("include/geometry.h");
  });

  test("-Wp,-MD,file writes the named dependency file", async () => {
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", "-Wp,-MD,deps.txt", "-c", "src/main.c", "-o", "main.o"], {
      hosts: hosts(protocol),
      cwd: dir,
    });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(dir, "deps.txt"), "utf8")).toContain("include/geometry.h");
  });

  test("an empty source compiles to an object", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "empty.c"), "");
    await compileBoth(dir, protocol, GCC, ["-c", "empty.c"], "empty.o");
  });

  test(`a source too large to wait in memory (over ${MAX_BODY_IN_MEMORY >> 20} MiB compressed) goes through a temp file`, async () => {
    const dir = workspace();
    let seed = 1;
    const values = Array.from({ length: 500_000 }, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return `0x${seed.toString(16)}u`;
    });
    writeFileSync(join(dir, "big.c"), `const unsigned table[] = {\n${values.join(",\n")}\n};\n`);
    const preprocessed = await run([GCC, "-E", "big.c", "-o", "big.i"], dir);
    expect(preprocessed.exitCode).toBe(0);
    expect(compress(new Uint8Array(readFileSync(join(dir, "big.i")))).length).toBeGreaterThan(MAX_BODY_IN_MEMORY);
    await compileBoth(dir, protocol, GCC, ["-O0", "-c", "big.c"], "big.o");
  });

  test("output to /dev/null", async () => {
    const dir = workspace();
    const result = await distcc([GCC, "-Iinclude", "-c", "src/main.c", "-o", "/dev/null"], { hosts: hosts(protocol), cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("completed ok");
  });
});

test("a .s input is assembled on the client and never reaches the agent", async () => {
  const dir = workspace();
  writeFileSync(join(dir, "f.s"), ".text\n.globl f\nf:\n blr\n");
  const before = agent.log().length;
  const result = await distcc([GCC, "-c", "f.s", "-o", "f.o"], { hosts: hosts(2), cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(statSync(join(dir, "f.o")).size).toBeGreaterThan(0);
  expect(agent.log().slice(before)).not.toContain("dcc_job_summary");
});

test("large bodies and objects of different sizes in turn, in kept buffers: each object equals a local compile", async () => {
  const dir = workspace();
  const table = (name: string, length: number) => {
    const values = Array.from({ length }, (_, i) => `${(i * 2654435761) >>> 0}u`);
    writeFileSync(join(dir, `${name}.c`), `const unsigned ${name}[] = {\n${values.join(",\n")}\n};\n`);
  };
  table("larger", 120_000);
  table("smaller", 40_000);
  for (const [name, protocol] of [
    ["larger", 2],
    ["smaller", 2],
    ["larger", 1],
    ["smaller", 1],
    ["larger", 2],
  ] as const) {
    await compileBoth(dir, protocol, GCC, ["-O0", "-c", `${name}.c`], `${name}-${protocol}.o`);
    expect(statSync(join(dir, `${name}-${protocol}.o`)).size).toBeGreaterThan(64 << 10);
  }
});

test("20 parallel clients with --jobs 2 all succeed", async () => {
  await using busy = await startAgent({ jobs: 2 });
  const dir = workspace();
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      distcc([GCC, "-O2", "-Iinclude", "-c", "src/main.c", "-o", `par${i}.o`], { hosts: `127.0.0.1:${busy.port}/20,lzo`, cwd: dir }),
    ),
  );
  expect(results.map((r) => r.exitCode)).toEqual(Array(20).fill(0));
  const objects = Array.from({ length: 20 }, (_, i) => readFileSync(join(dir, `par${i}.o`)));
  for (const object of objects) expect(object).toEqual(objects[0] ?? Buffer.alloc(0));
  expect(busy.log().match(/COMPILE_OK/g)?.length).toBe(20);
  await busy.stop();
  expect(jobLeftovers(busy.tmpDir)).toEqual([]);
});

test("every job's temp dir is removed", async () => {
  expect(jobLeftovers(agent.tmpDir)).toEqual([]);
});
