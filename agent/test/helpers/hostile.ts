/**
 * The hostile-compile cases: requests a malicious client sends to read the server's files, write
 * outside its job, run a program of its choosing, read another job, or open a connection. Each
 * runs against any distcc server on loopback and reports what leaked back and what it created;
 * the sandbox tests assert on it, and hostile-report.ts prints the same for the C distccd.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sharedTempDir } from "./agent.ts";
import { compileRequest, exchange, parseReply, pumpRequest } from "./tokens.ts";
import { GCC, GXX } from "./toolchain.ts";

/** Which layer of ours stops the case: the argument firewall, or only Landlock. */
export type Layer = "firewall" | "sandbox";

export interface HostileWorld {
  /** World-readable, outside every job: what a client must never see. */
  readonly secretFile: string;
  readonly token: string;
  /** World-writable: nothing may appear here. */
  readonly outside: string;
  /** Holds a `cc1` and an `as` that leave a mark in `outside` and print the secret. */
  readonly evilBin: string;
  /** slow-gcc and tcp-gcc, for PATH; and a whitelist naming them with the image's compilers (its name holds the token). */
  readonly wrapperBin: string;
  readonly whitelist: string;
  /** The compilers' environment: tcp-gcc dials HOSTILE_TCP_PORT, slow-gcc sleeps SLOW_SECONDS. */
  readonly env: Record<string, string>;
  /** Connections tcp-gcc managed to open. */
  connections(): number;
  stop(): void;
}

export function hostileWorld(): HostileWorld {
  const base = sharedTempDir("hostile-");
  const token = `SECRET-${crypto.randomUUID()}`;
  const secretDir = join(base, "secret");
  mkdirSync(secretDir, { mode: 0o755 });
  chmodSync(secretDir, 0o755);
  const secretFile = join(secretDir, "credentials");
  writeFileSync(secretFile, `${token}\n`, { mode: 0o644 });
  const outside = join(base, "outside");
  mkdirSync(outside);
  chmodSync(outside, 0o1777);
  const evilBin = join(base, "evil-bin");
  const wrapperBin = join(base, "bin");
  for (const dir of [evilBin, wrapperBin]) {
    mkdirSync(dir);
    chmodSync(dir, 0o755);
  }
  for (const tool of ["cc1", "as"]) {
    writeFileSync(join(evilBin, tool), `#!/bin/sh\necho ran > ${outside}/${tool}-ran\ncat ${secretFile} >&2\nexit 1\n`, { mode: 0o755 });
  }
  writeFileSync(
    join(wrapperBin, "slow-gcc"),
    `#!/bin/sh\ncase " $* " in *" -c "*) sleep "$SLOW_SECONDS" ;; esac\nexec powerpc-linux-gnu-gcc "$@"\n`,
    {
      mode: 0o755,
    },
  );
  writeFileSync(
    join(wrapperBin, "tcp-gcc"),
    `#!/bin/bash\ncase " $* " in *" -c "*) if exec 3<>/dev/tcp/127.0.0.1/$HOSTILE_TCP_PORT; then echo "tcp-gcc: connected" >&2; fi ;; esac\nexec powerpc-linux-gnu-gcc "$@"\n`,
    { mode: 0o755 },
  );
  // The token in the whitelist's name puts it in the server's command line (/proc/PID/cmdline).
  const whitelist = join(base, `whitelist-${token}`);
  writeFileSync(whitelist, `${GCC}\n${GXX}\nslow-gcc\ntcp-gcc\n`, { mode: 0o644 });
  let connections = 0;
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        connections++;
        socket.end();
      },
      data() {},
    },
  });
  return {
    secretFile,
    token,
    outside,
    evilBin,
    wrapperBin,
    whitelist,
    env: { HOSTILE_TCP_PORT: String(listener.port), SLOW_SECONDS: "3", HOSTILE_TOKEN: token },
    connections: () => connections,
    stop: () => listener.stop(true),
  };
}

/** What a server gave back for one hostile request, and what the request left behind. */
export interface HostileOutcome {
  readonly status: number;
  /** The secret (or the other job's source) appeared in stdout, stderr or the object. */
  readonly leaked: boolean;
  /** Files that appeared outside the job (in `outside`), and connections tcp-gcc opened. */
  readonly created: readonly string[];
  readonly connections: number;
  readonly stderr: string;
}

export interface Target {
  readonly port: number;
  /** The server's pid, whose /proc entries a job tries to read. */
  readonly pid: number;
  /** Where its job dirs live (the second-job case looks for the other job's source there). */
  readonly tmpDir: string;
}

export interface HostileCase {
  readonly name: string;
  readonly layer: Layer;
  /**
   * False when it may fail unconfined too: gcc and gas size a file by st_size before reading it,
   * and /proc files report 0 (a wrapper or plugin reading them would get everything), and the
   * environ of an agent that switched from root to another user is the kernel's to keep.
   */
  readonly getsThroughUnconfined: boolean;
  run(world: HostileWorld, target: Target): Promise<HostileOutcome>;
}

function contains(haystack: Uint8Array | string, needle: string): boolean {
  return Buffer.from(haystack).includes(needle);
}

async function send(
  world: HostileWorld,
  target: Target,
  argv: readonly string[],
  source: string,
  secret = world.token,
  pump = false,
): Promise<HostileOutcome> {
  const before = world.connections();
  const request = pump ? pumpRequest("/src", argv, [{ name: "/src/x.c", file: source }]) : compileRequest(1, argv, source);
  const reply = parseReply(await exchange(target.port, request));
  return {
    status: reply.status,
    leaked: contains(reply.stdout, secret) || contains(reply.stderr, secret) || contains(reply.object, secret),
    created: readdirSync(world.outside),
    connections: world.connections() - before,
    stderr: reply.stderr,
  };
}

function simple(
  name: string,
  layer: Layer,
  argv: (w: HostileWorld) => string[],
  source: (w: HostileWorld, t: Target) => string,
  getsThroughUnconfined = true,
): HostileCase {
  return { name, layer, getsThroughUnconfined, run: (world, target) => send(world, target, argv(world), source(world, target)) };
}

/** Pump mode (protocol 3): the server preprocesses, so an absolute `#include` reads the server's file. */
function pumped(name: string, path: (w: HostileWorld, t: Target) => string, getsThroughUnconfined = true): HostileCase {
  return {
    name,
    layer: "sandbox",
    getsThroughUnconfined,
    run: (world, target) =>
      send(world, target, [GCC, "-c", "/src/x.c", "-o", "x.o"], `#include "${path(world, target)}"\n`, world.token, true),
  };
}

const compile = ["-c", "x.c", "-o", "x.o"];

/** Every file under `dir` whose bytes contain `needle`. */
function findFiles(dir: string, needle: string): string[] {
  const found: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    try {
      const stat = statSync(path);
      if (stat.isDirectory()) found.push(...findFiles(path, needle));
      // Regular files only: reading a job's stderr FIFO would wait for its compiler.
      else if (stat.isFile() && readFileSync(path).includes(needle)) found.push(path);
    } catch {}
  }
  return found;
}

/** Job A compiles slowly; job B, knowing where A's source sits, tries to read it. */
const secondJob: HostileCase = {
  name: "a second job reads a running job's source",
  layer: "sandbox",
  getsThroughUnconfined: true,
  async run(world, target) {
    const marker = `OTHER-JOB-${crypto.randomUUID()}`;
    const first = exchange(target.port, compileRequest(1, ["slow-gcc", ...compile], `int a = 1; /* ${marker} */\n`));
    let paths: string[] = [];
    for (let tries = 0; tries < 100 && paths.length === 0; tries++) {
      paths = findFiles(target.tmpDir, marker);
      if (paths.length === 0) await Bun.sleep(30);
    }
    if (paths.length === 0) throw new Error("the first job's source never appeared");
    const outcome = await send(world, target, [GCC, ...compile], `__asm__(".incbin \\"${paths[0]}\\"");\n`, marker);
    await first;
    return outcome;
  },
};

export const HOSTILE_CASES: readonly HostileCase[] = [
  simple(
    "`.incbin` of a server file",
    "sandbox",
    () => [GCC, ...compile],
    (w) => `__asm__(".incbin \\"${w.secretFile}\\"");\n`,
  ),
  simple(
    "`-x c` and `#include` of a server file",
    "firewall",
    () => [GCC, "-x", "c", ...compile],
    (w) => `#include "${w.secretFile}"\n`,
  ),
  simple(
    "`-include` of a server file",
    "firewall",
    (w) => [GCC, "-x", "c", "-include", w.secretFile, ...compile],
    () => "int x;\n",
  ),
  simple(
    "`@file` reads a server file as arguments",
    "firewall",
    (w) => [GCC, `@${w.secretFile}`, ...compile],
    () => "int x;\n",
  ),
  simple(
    "`-Wa,@file` makes the assembler read it",
    "firewall",
    (w) => [GCC, `-Wa,@${w.secretFile}`, ...compile],
    () => "int x;\n",
  ),
  simple(
    "`-aux-info PATH` writes outside the job",
    "firewall",
    (w) => [GCC, "-aux-info", `${w.outside}/aux.txt`, ...compile],
    () => "int f(int);\n",
  ),
  simple(
    "`-save-temps -dumpdir DIR/` writes outside the job",
    "firewall",
    (w) => [GCC, "-save-temps=obj", "-dumpdir", `${w.outside}/`, ...compile],
    () => "int x;\n",
  ),
  simple(
    "`-fdump-tree-original=PATH` writes outside the job",
    "firewall",
    (w) => [GCC, `-fdump-tree-original=${w.outside}/dump.txt`, ...compile],
    () => "int x;\n",
  ),
  simple(
    "`-B DIR/` runs the client's choice of cc1",
    "firewall",
    (w) => [GCC, `-B${w.evilBin}/`, ...compile],
    () => "int x;\n",
  ),
  secondJob,
  pumped("pump mode: `#include` of a server file", (w) => w.secretFile),
  pumped("pump mode: `#include` of the server's /proc/PID/cmdline", (_w, t) => `/proc/${t.pid}/cmdline`, false),
  pumped("pump mode: `#include` of the server's /proc/PID/environ", (_w, t) => `/proc/${t.pid}/environ`, false),
  simple(
    "a compiler wrapper opens a TCP connection",
    "sandbox",
    () => ["tcp-gcc", ...compile],
    () => "int x;\n",
  ),
];

/** True when the case got nothing out and left nothing behind. */
export function contained(outcome: HostileOutcome): boolean {
  return !outcome.leaked && outcome.created.length === 0 && outcome.connections === 0;
}
