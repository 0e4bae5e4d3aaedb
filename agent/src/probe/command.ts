/**
 * @module `distccd probe HOST:PORT --compiler NAME`: a client mode that sends one small C file
 * through a distcc server (protocol 2) and checks that an ELF object comes back. Prints one
 * line and exits 0, or 1 with the reason. Its options are parsed here, only in this mode, so
 * the server's start-up never pays for them.
 */
import yargs from "yargs";
import { numberFlag } from "../number-flag.ts";
import { exchange } from "./client.ts";
import { readElfHeader } from "./elf.ts";
import { PROBE_SOURCE_NAME, probeRequest } from "./request.ts";
import { formatTarget, parseTarget } from "./target.ts";

export const PROBE_COMMAND = "probe";

const USAGE = `distccd probe HOST[:PORT] --compiler NAME [--expect-machine MACHINE] [--timeout SECONDS]

Sends ${PROBE_SOURCE_NAME} to a distcc server (protocol 2, LZO) and checks the object it returns.
Exit 0 with a one-line summary naming the object's ELF machine, else 1 with the reason.`;

function probeParser() {
  return (
    yargs()
      .scriptName("distccd probe")
      .usage(USAGE)
      .version(false)
      .help(false)
      .option("compiler", { type: "string", requiresArg: true, demandOption: true, describe: "Compiler the server runs" })
      .option("expect-machine", {
        type: "string",
        requiresArg: true,
        describe: "Fail unless the object is for this ELF machine (PowerPC, x86-64, AArch64, ...)",
      })
      .option("timeout", numberFlag(60, { describe: "SECONDS for the whole exchange" }))
      .option("help", { type: "boolean", default: false, describe: "Show this help and exit" })
      .strictOptions(true)
      // A repeated flag takes its last value, as the server's flags do (it has no list flags);
      // --timeout stays text until it is converted below (number-flag.ts says why).
      .parserConfiguration({ "duplicate-arguments-array": false, "parse-numbers": false })
      .exitProcess(false)
      .fail(false)
      .wrap(null)
  );
}

/** The compiler's wait status (§5) in words. */
function describeStatus(status: number): string {
  return (status & 0x7f) === 0 ? `exit status ${(status >> 8) & 0xff}` : `signal ${status & 0x7f}`;
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .find(Boolean) ?? ""
  );
}

export async function runProbe(argv: readonly string[]): Promise<number> {
  const fail = (where: string, reason: string) => {
    process.stdout.write(`probe: FAILED ${where}: ${reason}\n`);
    return 1;
  };
  const parser = probeParser();
  let args: Awaited<ReturnType<ReturnType<typeof probeParser>["parseAsync"]>>;
  try {
    args = await parser.parseAsync([...argv]);
  } catch (error) {
    if (argv.includes("--help")) {
      process.stdout.write(`${await parser.getHelp()}\n`);
      return 0;
    }
    return fail("usage", (error as Error).message);
  }
  if (args.help) {
    process.stdout.write(`${await parser.getHelp()}\n`);
    return 0;
  }
  const positional = args._.map(String);
  if (positional.length !== 1) return fail("usage", "give exactly one HOST:PORT");
  let target: ReturnType<typeof parseTarget>;
  try {
    target = parseTarget(positional[0] as string);
  } catch (error) {
    return fail("usage", (error as Error).message);
  }
  const where = formatTarget(target);
  const timeout = Number(args.timeout);
  if (!(timeout > 0)) return fail("usage", `--timeout ${args.timeout}: must be more than 0 seconds`);
  const started = performance.now();
  const outcome = await exchange(target, probeRequest(args.compiler), timeout * 1000);
  const ms = Math.round(performance.now() - started);
  if (!outcome.ok) return fail(where, outcome.reason);
  const { status, stderr, object } = outcome.reply;
  if (status !== 0) {
    const detail = firstLine(stderr);
    return fail(where, `${args.compiler} failed on the server (${describeStatus(status)})${detail ? `: ${detail}` : ""}`);
  }
  if (object.length === 0) return fail(where, `${args.compiler} succeeded but the server sent no object`);
  const elf = readElfHeader(object);
  if (!elf) return fail(where, `the ${object.length}-byte object is not ELF`);
  const summary = `ELF ${elf.bits}-bit ${elf.endian} ${elf.type} for ${elf.machine} (${object.length} bytes)`;
  const expected = args.expectMachine;
  if (expected !== undefined && expected.toLowerCase() !== elf.machine.toLowerCase())
    return fail(where, `expected an object for ${expected}, got ${summary}`);
  process.stdout.write(`probe: OK ${where} compiled ${PROBE_SOURCE_NAME} with ${args.compiler} in ${ms} ms: ${summary}\n`);
  return 0;
}
