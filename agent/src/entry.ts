/**
 * @module The executable's entry: the exec shim, the sandbox probe and the compiler watchdog
 * (watchdog-mode.ts, which runs on import when its variable is set) are dispatched here, and
 * everything else is main.ts. main.ts is a second entry point of the build, loaded by a path the
 * bundler does not follow, so a shim never loads the server's bundle (with the app in the same
 * module, even evaluated lazily, a shim paid about 5 ms more CPU for reading its bytecode).
 */
import "./watchdog-mode.ts";
import { EXEC_SHIM_MODE, SANDBOX_PROBE_MODE } from "./sandbox/shim-mode.ts";

const APP = "./main.js";
const mode = process.argv[2];
if (mode === EXEC_SHIM_MODE) await (await import("./sandbox/exec-shim.ts")).runExecShim(process.argv.slice(3));
else if (mode === SANDBOX_PROBE_MODE) (await import("./sandbox/probe.ts")).runProbe(process.argv.slice(3));
else await import(APP);
