/**
 * @module Pure reading and rewriting of a compiler command line, as the C server's
 * `dcc_scan_args`, `dcc_set_input` and `dcc_set_output` do (distcc-protocol.md §4.1).
 */
import { JobRefusedError } from "../errors.ts";

/** Where the input and output sit in argv, found once and used to rewrite it. */
export interface ScannedArgs {
  readonly argv: readonly string[];
  /** The source file as the client named it. */
  readonly input: string;
  readonly inputIndex: number;
  /** The output as the client named it (derived from the input when argv has none). */
  readonly output: string;
  /** How argv names the output: `-o X` (index of X), `-oX`, a bare `x.o`, or not at all. */
  readonly outputForm: { kind: "separate" | "joined" | "bare"; index: number } | { kind: "none" };
  /** `-S` was given: the output is assembler text. */
  readonly assembleOnly: boolean;
}

const SOURCE_EXTENSIONS = new Map<string, string>([
  [".c", ".i"],
  [".i", ".i"],
  [".cc", ".ii"],
  [".cpp", ".ii"],
  [".cxx", ".ii"],
  [".cp", ".ii"],
  [".c++", ".ii"],
  [".C", ".ii"],
  [".ii", ".ii"],
  [".m", ".mi"],
  [".mi", ".mi"],
  [".mm", ".mii"],
  [".M", ".mii"],
  [".mii", ".mii"],
  [".s", ".s"],
  [".S", ".s"],
]);

const LANGUAGES = new Set(["c", "c++", "objective-c", "objective-c++", "go"]);

/** Options that make the compiler run or load code the client chose (distcc-protocol.md §4.3, §11). */
const INSECURE_PREFIXES = ["-fplugin=", "-specs=", "--specs=", "-wrapper"];

function extension(path: string): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? path.slice(dot) : "";
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function isSource(path: string): boolean {
  return SOURCE_EXTENSIONS.has(extension(path));
}

/** The extension of the already-preprocessed temp input (`dcc_preproc_exten`). */
export function preprocessedExtension(input: string): string {
  return SOURCE_EXTENSIONS.get(extension(input)) ?? ".tmp";
}

function refuse(code: string, message: string): never {
  throw new JobRefusedError(code, message);
}

/** Finds input and output, refusing what the C server refuses to compile remotely. */
export function scanArgs(argv: readonly string[]): ScannedArgs {
  const compiler = argv[0] ?? "";
  if (compiler.startsWith("-")) refuse("E_ARGS_COMPILER", `compiler name "${compiler}" looks like an option`);
  let input: string | undefined;
  let inputIndex = -1;
  let output: string | undefined;
  let outputForm: ScannedArgs["outputForm"] = { kind: "none" };
  let seenC = false;
  let seenS = false;
  const setOutput = (value: string | undefined, form: "separate" | "joined" | "bare", index: number) => {
    if (value === undefined) refuse("E_ARGS_OUTPUT", "-o is the last argument");
    if (output !== undefined) refuse("E_ARGS_OUTPUT", `more than one output: "${output}" and "${value}"`);
    if (value === "-") refuse("E_ARGS_OUTPUT", "output to stdout (-o -) cannot be sent back");
    output = value;
    outputForm = { kind: form, index };
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("-")) {
      if (isSource(a)) {
        if (input !== undefined) refuse("E_ARGS_INPUT", `more than one input: "${input}" and "${a}"`);
        input = a;
        inputIndex = i;
      } else if (a.endsWith(".o")) setOutput(a, "bare", i);
      continue;
    }
    for (const prefix of INSECURE_PREFIXES) {
      if (a.startsWith(prefix)) refuse("E_ARGS_INSECURE", `option ${a} is refused: it makes the compiler run code chosen by the client`);
    }
    if (a === "-E") refuse("E_ARGS_LOCAL", "-E (preprocess only) must run on the client");
    if (a === "-MD" || a === "-MMD" || a === "-MG" || a === "-MP") continue;
    if (a === "-MF" || a === "-MT" || a === "-MQ") {
      i++;
      continue;
    }
    if (a.startsWith("-MF") || a.startsWith("-MT") || a.startsWith("-MQ")) continue;
    if (a.startsWith("-M")) refuse("E_ARGS_LOCAL", `${a} produces dependencies only and must run on the client`);
    if (a.startsWith("-Wa,") && (a.includes(",-a") || a.includes("--MD"))) refuse("E_ARGS_LOCAL", `${a} writes a local listing`);
    if (a === "-S") seenS = true;
    else if (a === "-c") seenC = true;
    else if (
      a === "-fprofile-arcs" ||
      a === "-ftest-coverage" ||
      a === "--coverage" ||
      a === "-frepo" ||
      a === "-fprofile-correction" ||
      a.startsWith("-fprofile-generate") ||
      a.startsWith("-fprofile-use") ||
      a.startsWith("-fauto-profile")
    ) {
      refuse("E_ARGS_LOCAL", `${a} needs files on the client`);
    } else if (a === "-march=native" || a === "-mtune=native") refuse("E_ARGS_LOCAL", `${a} must be decided on the client's machine`);
    else if (a.startsWith("-dr")) refuse("E_ARGS_LOCAL", `${a} writes RTL dumps on the client`);
    else if (a.startsWith("-x")) {
      const language = a === "-x" ? argv[++i] : a.slice(2);
      if (language === undefined || !LANGUAGES.has(language))
        refuse("E_ARGS_LANGUAGE", `language "${language ?? ""}" is not compiled remotely`);
    } else if (a === "-o") {
      setOutput(argv[i + 1], "separate", i + 1);
      i++;
    } else if (a.startsWith("-o")) setOutput(a.slice(2), "joined", i);
  }
  if (!seenC && !seenS) refuse("E_ARGS_NOT_COMPILE", "neither -c nor -S: this is not a compile job");
  if (input === undefined) refuse("E_ARGS_INPUT", "no source file among the arguments");
  const name = basename(input);
  if (name.startsWith("conftest.") || name.startsWith("tmp.conftest."))
    refuse("E_ARGS_LOCAL", `${input} is an autoconf test and runs locally`);
  if (output === undefined) {
    const stem = name.slice(0, name.length - extension(name).length);
    output = stem + (seenS ? ".s" : ".o");
  }
  return { argv, input, inputIndex, output, outputForm, assembleOnly: seenS };
}

/** argv with the input and output replaced by the server's temp files (`dcc_set_input`, `dcc_set_output`). */
export function rewriteArgs(scanned: ScannedArgs, input: string | undefined, output: string): string[] {
  const argv = [...scanned.argv];
  if (input !== undefined) argv[scanned.inputIndex] = input;
  const form = scanned.outputForm;
  if (form.kind === "separate") argv[form.index] = output;
  else if (form.kind === "joined") argv[form.index] = `-o${output}`;
  else {
    // gcc would take a bare `x.o` for a linker input; name the output explicitly instead.
    if (form.kind === "bare") argv.splice(form.index, 1);
    argv.push("-o", output);
  }
  return argv;
}
