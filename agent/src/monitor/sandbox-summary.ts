/**
 * @module The sandbox state in the few words an agent's panel has room for (the log line and
 * `--version` carry the long form, sandbox-state.ts's describeSandbox).
 */
import type { SandboxStatus } from "../sandbox/sandbox-state.ts";

export function sandboxSummary(status: SandboxStatus): string {
  if (status.mode === "off") return "off (--sandbox off)";
  if (!status.enforced) return `not enforced: ${status.reason ?? "Landlock is unavailable"}`;
  const confined = ["files", status.network ? "network" : "", status.scope ? "signals" : ""].filter(Boolean).join(", ");
  return `Landlock ABI ${status.abi} (${confined})`;
}
