/**
 * @module The hidden first arguments that start the agent's binary as an exec shim or as the
 * sandbox probe instead of the server. The entry module checks them before anything of the app
 * is evaluated, so a shim pays only for Bun's own start.
 */
export const EXEC_SHIM_MODE = "__exec-shim";
export const SANDBOX_PROBE_MODE = "__sandbox-probe";
