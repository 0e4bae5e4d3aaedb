/**
 * @module Protocol 3's command line rewriting (distcc-protocol.md §3.3): the compiler runs in the
 * fake root, so absolute include paths and an absolute input move under it; the dependency file
 * goes to the job's temp dir and its target is remembered for the `.d` cleanup.
 */
import { rewriteArgs, type ScannedArgs } from "../job/argv.ts";

/** Options whose path argument is rebased under the root when absolute (joined or separate). */
const PATH_OPTIONS = ["-iwithprefixbefore", "-iwithprefix", "-idirafter", "-imacros", "-include", "-isystem", "-iprefix", "-iquote", "-I"];

export interface PumpCommand {
  readonly command: string[];
  /** The `.d` file's target: the first `-MT` value, else the client's output name. */
  readonly dependencyTarget: string;
}

function rebase(path: string, root: string): string {
  return path.startsWith("/") ? `${root}${path}` : path;
}

export function rewritePumpArgs(scanned: ScannedArgs, root: string, objectFile: string, depsFile: string): PumpCommand {
  const argv = [...scanned.argv];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (i === scanned.inputIndex) {
      argv[i] = rebase(arg, root);
      continue;
    }
    const option = PATH_OPTIONS.find((name) => arg.startsWith(name));
    if (option === undefined) continue;
    if (arg === option) {
      if (i + 1 < argv.length) argv[i + 1] = rebase(argv[i + 1] as string, root);
      i++;
    } else argv[i] = option + rebase(arg.slice(option.length), root);
  }
  const command = rewriteArgs({ ...scanned, argv }, undefined, objectFile);
  let dependencyTarget = scanned.output;
  const mt = command.indexOf("-MT");
  if (mt >= 0 && mt + 1 < command.length) {
    dependencyTarget = command[mt + 1] as string;
    command.splice(mt, 2);
  }
  if (!command.includes("-MD") && !command.includes("-MMD")) command.push("-MMD");
  // gcc takes the last -MF, so a -MF from the client is harmlessly overridden.
  command.push("-MF", depsFile);
  return { command, dependencyTarget };
}
