/**
 * @module Who a compiler is, for the cache key: the content of its driver and of the programs
 * the driver runs (`cc1`, `cc1plus`, `as`, `collect2`, found with `-print-prog-name`), with its
 * `-dumpmachine` and `-dumpversion`. Names and mtimes alone are not enough: two compilers can
 * share them (ccache's known false hits). Everything is worked out once and remembered by
 * path, device, inode, size and mtime, so a job pays a few stat calls. With a local tier it is
 * also remembered in a file there: an agent in inetd mode is a new process per job, and working
 * it out again cost each job some 110 ms of CPU (cc1 and cc1plus are 25 MiB each to hash) and
 * six probes of the driver.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";

/** The programs whose content decides the output, besides the driver. */
const PROGRAMS = ["cc1", "cc1plus", "as", "collect2"] as const;
/** A probe of the driver that takes longer is given up: the identity is then its content alone. */
const PROBE_TIMEOUT_MS = 10_000;

interface DriverFacts {
  readonly machine: string;
  readonly version: string;
  /** Each program's path, or undefined when the driver does not have it. */
  readonly programs: readonly (string | undefined)[];
}

/** One compiler as the file remembers it; trusted only while the driver's signature is the same. */
interface Remembered {
  readonly driver: string;
  readonly facts: DriverFacts;
  /** The signatures of the driver and its programs that {@link identity} was worked out for. */
  readonly memo: string;
  readonly identity: string;
}

function isRemembered(value: unknown): value is Remembered {
  const record = value as Remembered;
  const facts = record?.facts;
  return (
    typeof record?.driver === "string" &&
    typeof record.memo === "string" &&
    typeof record.identity === "string" &&
    typeof facts?.machine === "string" &&
    typeof facts.version === "string" &&
    Array.isArray(facts.programs) &&
    facts.programs.length === PROGRAMS.length &&
    facts.programs.every((path) => path === null || typeof path === "string")
  );
}

/** Changes whenever the file is replaced or rewritten; undefined when it is gone. */
function signature(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

async function ask(executable: string, option: string, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  try {
    const proc = Bun.spawn([executable, option], {
      env: env as Record<string, string>,
      cwd: "/",
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
      timeout: PROBE_TIMEOUT_MS,
    });
    const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return code === 0 ? text.trim() : "";
  } catch {
    return "";
  }
}

export class CompilerIdentities {
  private readonly drivers = new Map<string, { signature: string; facts: Promise<DriverFacts> }>();
  private readonly contents = new Map<string, { signature: string; digest: string }>();
  private readonly identities = new Map<string, string>();

  /**
   * `env` is the compilers' environment: its PATH finds programs the driver names bare. `file`:
   * where identities are remembered across processes (one writer's rename replaces another's).
   */
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly file?: { readonly path: string; readonly tempDir: string },
  ) {}

  /** A hex digest that changes when anything that makes up the compiler changes. */
  async identify(executable: string): Promise<string> {
    const driverSignature = signature(executable) ?? "missing";
    let driver = this.drivers.get(executable);
    let remembered: Remembered | undefined;
    if (driver === undefined || driver.signature !== driverSignature) {
      remembered = this.recall()[executable];
      if (remembered?.driver !== driverSignature) remembered = undefined;
      driver = { signature: driverSignature, facts: remembered ? Promise.resolve(remembered.facts) : this.probe(executable) };
      this.drivers.set(executable, driver);
    }
    const facts = await driver.facts;
    const paths = [executable, ...facts.programs];
    const signatures = paths.map((path) => (path === undefined ? "none" : (signature(path) ?? "missing")));
    const memo = `${executable}\0${signatures.join("\0")}`;
    const known = this.identities.get(memo) ?? (remembered?.memo === memo ? remembered.identity : undefined);
    if (known !== undefined) {
      this.identities.set(memo, known);
      return known;
    }
    const hasher = new Bun.CryptoHasher("sha256");
    hasher.update(`machine=${facts.machine}\0version=${facts.version}\0`);
    hasher.update(`driver=${this.contentDigest(executable, signatures[0] as string)}\0`);
    for (const [index, name] of PROGRAMS.entries()) {
      const path = facts.programs[index];
      hasher.update(`${name}=${path === undefined ? "none" : this.contentDigest(path, signatures[index + 1] as string)}\0`);
    }
    const identity = hasher.digest("hex");
    this.identities.set(memo, identity);
    this.remember(executable, { driver: driverSignature, facts, memo, identity });
    return identity;
  }

  /** What the file holds; empty when there is none or it is not ours to trust. */
  private recall(): Record<string, Remembered> {
    if (this.file === undefined) return {};
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file.path, "utf8"));
      const records: Record<string, Remembered> = {};
      for (const [executable, record] of Object.entries(parsed as Record<string, unknown>)) {
        if (!isRemembered(record)) continue;
        // JSON has no undefined: a program the driver lacks is stored as null.
        const programs = record.facts.programs.map((path) => path ?? undefined);
        records[executable] = { ...record, facts: { ...record.facts, programs } };
      }
      return records;
    } catch {
      return {};
    }
  }

  /** Written to a temp file and renamed, so a reader sees the old file or the new one. */
  private remember(executable: string, record: Remembered): void {
    if (this.file === undefined) return;
    const records = { ...this.recall(), [executable]: record };
    const temp = `${this.file.tempDir}/compilers.${process.pid}.json`;
    try {
      writeFileSync(temp, JSON.stringify(records), { mode: 0o600 });
      renameSync(temp, this.file.path);
    } catch {
      // Not remembered: the next process works it out again.
    }
  }

  private async probe(executable: string): Promise<DriverFacts> {
    const [machine, version, ...programs] = await Promise.all([
      ask(executable, "-dumpmachine", this.env),
      ask(executable, "-dumpversion", this.env),
      ...PROGRAMS.map((name) => ask(executable, `-print-prog-name=${name}`, this.env)),
    ]);
    return {
      machine: machine ?? "",
      version: version ?? "",
      programs: programs.map((named) => this.locate(named)),
    };
  }

  /** gcc answers with a path when it has the program, else with the bare name it would look up. */
  private locate(named: string): string | undefined {
    if (named === "") return undefined;
    if (named.includes("/")) return signature(named) === undefined ? undefined : named;
    return Bun.which(named, { PATH: this.env.PATH ?? "" }) ?? undefined;
  }

  private contentDigest(path: string, fileSignature: string): string {
    if (fileSignature === "missing") return "missing";
    const known = this.contents.get(path);
    if (known?.signature === fileSignature) return known.digest;
    let digest: string;
    try {
      digest = new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
    } catch {
      digest = "unreadable";
    }
    this.contents.set(path, { signature: fileSignature, digest });
    return digest;
  }
}
