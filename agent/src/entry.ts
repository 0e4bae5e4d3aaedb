/**
 * @module The executable's entry: the compiler watchdog (watchdog-mode.ts, which runs on import
 * when its variable is set) is dispatched here, and everything else is main.ts. main.ts is a
 * second entry point of the build, loaded by a path the bundler does not follow, so the watchdog
 * never loads the server's bundle (it stays at about 2.5 MiB of its own).
 */
import "./watchdog-mode.ts";

const APP = "./main.js";
await import(APP);
