/**
 * @module The sandbox probe: a child that asks the kernel for the Landlock ABI and confines
 * itself with an empty ruleset, as every compile's shim will, then prints what happened as JSON.
 * A container's seccomp profile may refuse any of the three syscalls; only trying all of them
 * tells. `simulate` (a test seam) plays an older kernel (`abi=N`) or a refused syscall (`refuse`).
 */
import { errnoName, LandlockError, landlockAbi, restrictSelf } from "./landlock.ts";
import { openLibc } from "./libc.ts";

export interface ProbeResult {
  /** The ABI that confinement works with; 0 when it does not. */
  readonly abi: number;
  /** Why there is no confinement (abi 0). */
  readonly reason?: string;
}

const EPERM = 1;

function probe(simulate: string | undefined): ProbeResult {
  const libc = openLibc();
  if (simulate === "refuse")
    return { abi: 0, reason: `landlock_create_ruleset failed: ${errnoName(EPERM)} (refused by a seccomp profile?)` };
  let abi = landlockAbi(libc);
  if (abi < 0) {
    const why = abi === -38 ? "the kernel has no Landlock (ENOSYS; Linux 5.13+ with CONFIG_SECURITY_LANDLOCK)" : undefined;
    const disabled = abi === -95 ? "Landlock is disabled at boot (EOPNOTSUPP; add landlock to the lsm= kernel parameter)" : undefined;
    return { abi: 0, reason: why ?? disabled ?? `landlock_create_ruleset failed: ${errnoName(-abi)} (refused by a seccomp profile?)` };
  }
  const simulated = simulate?.match(/^abi=(\d+)$/)?.[1];
  if (simulated !== undefined) abi = Math.min(abi, Number(simulated));
  if (abi === 0) return { abi: 0, reason: "the kernel has no Landlock (simulated ABI 0)" };
  try {
    restrictSelf(libc, { abi, rules: [] });
  } catch (error) {
    if (!(error instanceof LandlockError)) throw error;
    return { abi: 0, reason: `${error.message} (refused by a seccomp profile?)` };
  }
  return { abi };
}

export function runProbe(args: readonly string[]): void {
  process.stdout.write(`${JSON.stringify(probe(args[0] || undefined))}\n`);
}
