/**
 * @module The executable's entry: the exec shim and the sandbox probe are dispatched before the
 * server's modules are evaluated (they are imported only when needed), everything else is main.ts.
 */
import { EXEC_SHIM_MODE, SANDBOX_PROBE_MODE } from "./sandbox/shim-mode.ts";

const mode = process.argv[2];
if (mode === EXEC_SHIM_MODE) await (await import("./sandbox/exec-shim.ts")).runExecShim(process.argv.slice(3));
else if (mode === SANDBOX_PROBE_MODE) (await import("./sandbox/probe.ts")).runProbe(process.argv.slice(3));
else await import("./main.ts");
