/**
 * @module What confinement is in force, decided once at start-up from `--sandbox` and the
 * sandbox probe: the log line, the `--version` line, `distccd_sandbox_info`, and the object that
 * /status shows (sandboxStatus()).
 */
import { ConfigError } from "../errors.ts";
import type { ConfinedExec } from "./confined-exec.ts";
import { probeSandbox } from "./probe.ts";

export type SandboxMode = "auto" | "required" | "off";

export interface SandboxStatus {
  readonly mode: SandboxMode;
  /** Compiles run under Landlock. */
  readonly enforced: boolean;
  /** The Landlock ABI confinement uses (0: none). */
  readonly abi: number;
  /** Reads limited to the toolchain and the job, writes to the job (ABI 1+). */
  readonly filesystem: boolean;
  /** No TCP bind or connect (ABI 4+). */
  readonly network: boolean;
  /** No signals or abstract unix sockets outside the job (ABI 6+). */
  readonly scope: boolean;
  /** Why something is not enforced; absent when everything is. */
  readonly reason?: string;
}

let current: SandboxStatus = {
  mode: "off",
  enforced: false,
  abi: 0,
  filesystem: false,
  network: false,
  scope: false,
  reason: "not started",
};

/** The sandbox in force, for /status. */
export function sandboxStatus(): SandboxStatus {
  return current;
}

export interface SandboxDecision {
  readonly status: SandboxStatus;
  /** What starts confined compilers; present exactly when confinement is enforced. */
  readonly exec?: ConfinedExec;
}

/**
 * Runs the probe (unless off) and records the result; `simulate` is the test seam. `tmpDir` is
 * where the confined exec's source is compiled from.
 */
export function decideSandbox(mode: SandboxMode, tmpDir: string, simulate?: string): SandboxDecision {
  if (mode === "off") {
    current = { mode, enforced: false, abi: 0, filesystem: false, network: false, scope: false, reason: "--sandbox off" };
    return { status: current };
  }
  const { abi, reason, exec } = probeSandbox(simulate, tmpDir);
  const missing = [abi < 4 ? "network (needs Landlock ABI 4, Linux 6.7)" : "", abi < 6 ? "scope (needs Landlock ABI 6, Linux 6.12)" : ""]
    .filter(Boolean)
    .join(", ");
  current = {
    mode,
    enforced: abi >= 1,
    abi,
    filesystem: abi >= 1,
    network: abi >= 4,
    scope: abi >= 6,
    ...(abi === 0
      ? { reason: reason ?? "Landlock is unavailable" }
      : missing
        ? { reason: `kernel ABI ${abi}: not enforced: ${missing}` }
        : {}),
  };
  return exec === undefined ? { status: current } : { status: current, exec };
}

/**
 * `required` means a compile can neither read outside the toolchain and its job nor open a TCP
 * connection (filesystem and network, ABI 4+); without them the agent does not start.
 */
export function checkRequired(decision: SandboxDecision): SandboxDecision {
  const { status } = decision;
  if (status.mode !== "required" || (status.filesystem && status.network)) return decision;
  throw new ConfigError("E_CONFIG_SANDBOX", `--sandbox required: compiles cannot be confined: ${status.reason ?? "unknown"}`);
}

/** One line for the start-up log and --version. */
export function describeSandbox(status: SandboxStatus): string {
  if (status.mode === "off") return "sandbox off (--sandbox off): compilers run unconfined";
  if (!status.enforced) return `sandbox not enforced (--sandbox ${status.mode}): ${status.reason}; compilers run unconfined`;
  const enforced = [
    "filesystem (toolchain read-only, job dir read-write)",
    status.network ? "network (no TCP bind or connect)" : "",
    status.scope ? "scope (no signals or abstract unix sockets outside the job)" : "",
  ]
    .filter(Boolean)
    .join(", ");
  return `sandbox: Landlock ABI ${status.abi} (--sandbox ${status.mode}) enforces ${enforced}${status.reason ? `; ${status.reason}` : ""}`;
}

/** `distccd_sandbox_info`, an info-style gauge for the metrics registry. */
export function sandboxInfoMetric(status: () => SandboxStatus): { render(): string } {
  return {
    render() {
      const { abi, filesystem, network, scope } = status();
      return [
        "# HELP distccd_sandbox_info The confinement compilers run under (Landlock ABI; 0: none) and what it enforces",
        "# TYPE distccd_sandbox_info gauge",
        `distccd_sandbox_info{abi="${abi}",filesystem="${filesystem}",network="${network}",scope="${scope}"} 1`,
        "",
      ].join("\n");
    },
  };
}
