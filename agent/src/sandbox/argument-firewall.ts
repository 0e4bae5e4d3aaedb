/**
 * @module The argument firewall, the second layer behind Landlock: refuses the options that make
 * the compiler read a file the client names (`@file`), run programs from a directory it names
 * (`-B`, `--prefix`, `-iplugindir`), or write files outside the job (`-aux-info`, `-save-temps`,
 * `-dumpdir`, `-dumpbase` and `-fdump-*` with a path, `-MF` outside the job). On protocols 1 and 2
 * the input is already preprocessed: `-x c` and its kin become their `*-cpp-output` languages, so
 * the server never preprocesses (no `#include` or `-include` is read on the server). Pure.
 */
import { JobRefusedError } from "../errors.ts";
import type { ScannedArgs } from "../job/argv.ts";

/** Protocols 1 and 2 send preprocessed text; protocol 3 (pump) sends sources and headers. */
export type InputKind = "preprocessed" | "pump";

const PREPROCESSED: Record<string, string> = {
  c: "cpp-output",
  "c++": "c++-cpp-output",
  "objective-c": "objective-c-cpp-output",
  "objective-c++": "objective-c++-cpp-output",
};

/** Options passing a comma-separated list straight to a tool (each item may be an `@file` of its own). */
const PASS_LISTS = ["-Wa,", "-Wp,", "-Wl,"];

function refuse(code: string, option: string, why: string): never {
  throw new JobRefusedError(code, `option ${option} is refused: ${why}`);
}

/** A path that leaves the directory it is relative to, or does not start in it. */
function outsideJob(path: string): boolean {
  return path.startsWith("/") || path.split("/").includes("..");
}

function checkResponseFile(value: string, option: string): void {
  if (value.startsWith("@")) refuse("E_FIREWALL_RESPONSE_FILE", option, "@file makes the compiler read a server file as arguments");
}

function checkDependencyFile(path: string, option: string): void {
  if (outsideJob(path)) refuse("E_FIREWALL_OUTPUT_PATH", option, "the dependency file would be written outside the job");
}

/** `-fdump-...=FILE` names a file; stdout and stderr are the dump's other two destinations. */
function checkDump(arg: string): void {
  if (!arg.startsWith("-fdump-")) return;
  const target = arg.indexOf("=") >= 0 ? arg.slice(arg.indexOf("=") + 1) : undefined;
  if (target !== undefined && target !== "stdout" && target !== "stderr")
    refuse("E_FIREWALL_OUTPUT_PATH", arg, "it writes a dump file where the client chooses");
}

/** Throws JobRefusedError for a dangerous option; returns the arguments with `-x` made safe. */
export function guardArguments(scanned: ScannedArgs, input: InputKind): ScannedArgs {
  const argv = [...scanned.argv];
  // The driver expands every argument that starts with @, whatever option it belongs to
  // (-Xassembler @file, -MF @file, the input itself).
  for (const arg of argv.slice(1)) checkResponseFile(arg, arg);
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (i === scanned.inputIndex) continue;
    const list = PASS_LISTS.find((prefix) => arg.startsWith(prefix));
    if (list !== undefined) {
      const items = arg.slice(list.length).split(",");
      for (const [index, item] of items.entries()) {
        checkResponseFile(item, arg);
        if (list === "-Wp," && (item === "-MF" || item === "-MD" || item === "-MMD")) checkDependencyFile(items[index + 1] ?? "", arg);
      }
      continue;
    }
    if (arg.startsWith("-B") || arg === "--prefix" || arg.startsWith("--prefix="))
      refuse("E_FIREWALL_PROGRAM_PREFIX", arg, "it makes the compiler run programs from a directory the client names");
    if (arg.startsWith("-iplugindir"))
      refuse("E_FIREWALL_PROGRAM_PREFIX", arg, "it makes the compiler load plugins from a directory the client names");
    if (arg === "-aux-info" || arg.startsWith("-aux-info="))
      refuse("E_FIREWALL_OUTPUT_PATH", arg, "it writes a file where the client chooses");
    if (arg === "-save-temps" || arg.startsWith("-save-temps="))
      refuse("E_FIREWALL_OUTPUT_PATH", arg, "it writes temporary files beside the output or the working directory");
    if (arg === "-dumpdir") refuse("E_FIREWALL_OUTPUT_PATH", arg, "it writes auxiliary files where the client chooses");
    if ((arg === "-dumpbase" || arg === "-dumpbase-ext") && (argv[i + 1] ?? "").includes("/"))
      refuse("E_FIREWALL_OUTPUT_PATH", `${arg} ${argv[i + 1]}`, "it writes auxiliary files where the client chooses");
    checkDump(arg);
    if (arg === "-MF") {
      checkDependencyFile(argv[i + 1] ?? "", `-MF ${argv[i + 1] ?? ""}`);
      i++;
    } else if (arg.startsWith("-MF")) checkDependencyFile(arg.slice(3), arg);
    else if (arg === "-x" && input === "preprocessed") {
      const language = argv[i + 1] ?? "";
      argv[i + 1] = PREPROCESSED[language] ?? language;
      i++;
    } else if (arg.startsWith("-x") && input === "preprocessed") {
      const language = arg.slice(2);
      argv[i] = `-x${PREPROCESSED[language] ?? language}`;
    }
  }
  return { ...scanned, argv };
}
