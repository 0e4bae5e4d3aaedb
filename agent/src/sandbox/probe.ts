/**
 * @module The sandbox probe, at start-up: asks the kernel for the Landlock ABI, compiles the
 * confined exec and has a child confine itself with an empty ruleset through it, as every
 * compile will. A container's seccomp profile may refuse any of the three Landlock syscalls;
 * only trying all of them tells. `simulate` (a test seam) plays an older kernel (`abi=N`) or a
 * refused syscall (`refuse`).
 */
import { type ConfinedExec, loadConfinedExec } from "./confined-exec.ts";
import { createRuleset, errnoName, LandlockError, landlockAbi } from "./landlock.ts";
import { openLibc } from "./libc.ts";

export interface ProbeResult {
  /** The ABI that confinement works with; 0 when it does not. */
  readonly abi: number;
  /** Why there is no confinement (abi 0). */
  readonly reason?: string;
  /** What starts confined compilers, when they can be. */
  readonly exec?: ConfinedExec;
}

const EPERM = 1;
const SECCOMP_HINT = "(refused by a seccomp profile?)";

export function probeSandbox(simulate: string | undefined, tmpDir: string): ProbeResult {
  if (simulate === "refuse") return { abi: 0, reason: `landlock_create_ruleset failed: ${errnoName(EPERM)} ${SECCOMP_HINT}` };
  const libc = openLibc();
  let abi = landlockAbi(libc);
  if (abi < 0) {
    const why = abi === -38 ? "the kernel has no Landlock (ENOSYS; Linux 5.13+ with CONFIG_SECURITY_LANDLOCK)" : undefined;
    const disabled = abi === -95 ? "Landlock is disabled at boot (EOPNOTSUPP; add landlock to the lsm= kernel parameter)" : undefined;
    return { abi: 0, reason: why ?? disabled ?? `landlock_create_ruleset failed: ${errnoName(-abi)} ${SECCOMP_HINT}` };
  }
  const simulated = simulate?.match(/^abi=(\d+)$/)?.[1];
  if (simulated !== undefined) abi = Math.min(abi, Number(simulated));
  if (abi === 0) return { abi: 0, reason: "the kernel has no Landlock (simulated ABI 0)" };
  let exec: ConfinedExec;
  try {
    exec = loadConfinedExec(tmpDir);
  } catch (error) {
    return { abi: 0, reason: `bun:ffi cannot compile the confined exec: ${(error as Error).message.split("\n")[0]}` };
  }
  let rulesetFd: number;
  try {
    rulesetFd = createRuleset(libc, abi);
  } catch (error) {
    if (!(error instanceof LandlockError)) throw error;
    return { abi: 0, reason: `${error.message} ${SECCOMP_HINT}` };
  }
  const failure = exec.tryRestrict(rulesetFd);
  libc.close(rulesetFd);
  return failure === undefined ? { abi, exec } : { abi: 0, reason: `${failure} ${SECCOMP_HINT}` };
}
