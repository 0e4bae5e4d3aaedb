/**
 * @module Landlock through libc: the ABI version, and a ruleset for a compiler to confine itself
 * to (confined-exec.c applies it, between fork and exec). Rights and ABI levels are the kernel's (include/uapi/linux/landlock.h,
 * Documentation/userspace-api/landlock.rst): each ABI adds rights, so a ruleset handles exactly
 * what the running kernel knows and everything it handles but no rule grants is denied.
 */
import { ptr } from "bun:ffi";
import { cString, errno, type Libc, O_CLOEXEC, O_PATH, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_CREATE_RULESET } from "./libc.ts";

export const FS = {
  EXECUTE: 1 << 0,
  WRITE_FILE: 1 << 1,
  READ_FILE: 1 << 2,
  READ_DIR: 1 << 3,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  /** ABI 2: link and rename across directories. */
  REFER: 1 << 13,
  /** ABI 3. */
  TRUNCATE: 1 << 14,
  /** ABI 5: ioctl on device files. */
  IOCTL_DEV: 1 << 15,
} as const;

/** ABI 4. */
export const NET = { BIND_TCP: 1 << 0, CONNECT_TCP: 1 << 1 } as const;
/** ABI 6. */
export const SCOPE = { ABSTRACT_UNIX_SOCKET: 1 << 0, SIGNAL: 1 << 1 } as const;

/** Rights that apply to a regular file (a rule on a file may grant no other). */
export const FILE_RIGHTS = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV;
export const READ_EXECUTE = FS.EXECUTE | FS.READ_FILE | FS.READ_DIR;
export const READ_WRITE =
  FS.WRITE_FILE |
  FS.READ_FILE |
  FS.READ_DIR |
  FS.REMOVE_DIR |
  FS.REMOVE_FILE |
  FS.MAKE_DIR |
  FS.MAKE_REG |
  FS.MAKE_SYM |
  FS.REFER |
  FS.TRUNCATE;

const LANDLOCK_CREATE_RULESET_VERSION = 1;
const LANDLOCK_RULE_PATH_BENEATH = 1;

/** The filesystem rights a kernel of this ABI handles. */
export function handledFs(abi: number): number {
  let rights = (1 << 13) - 1;
  if (abi >= 2) rights |= FS.REFER;
  if (abi >= 3) rights |= FS.TRUNCATE;
  if (abi >= 5) rights |= FS.IOCTL_DEV;
  return rights;
}

export const handledNet = (abi: number): number => (abi >= 4 ? NET.BIND_TCP | NET.CONNECT_TCP : 0);
export const handledScope = (abi: number): number => (abi >= 6 ? SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL : 0);

/** What one process is confined to: paths beneath which it keeps some rights, all else denied. */
export interface LandlockRuleset {
  readonly abi: number;
  readonly rules: readonly { readonly path: string; readonly access: number }[];
}

/** The ABI version, or a negative errno (ENOSYS: not built in; EOPNOTSUPP: disabled at boot). */
export function landlockAbi(libc: Libc): number {
  const version = Number(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0));
  return version >= 0 ? version : -errno(libc);
}

export class LandlockError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed: ${errnoName(errno)}`);
  }
}

const ERRNO_NAMES: Record<number, string> = { 1: "EPERM", 2: "ENOENT", 13: "EACCES", 22: "EINVAL", 38: "ENOSYS", 95: "EOPNOTSUPP" };

export function errnoName(code: number): string {
  return ERRNO_NAMES[code] ?? `errno ${code}`;
}

/** An empty ruleset fd handling everything this ABI knows; rules are added, then enforced. */
export function createRuleset(libc: Libc, abi: number): number {
  // struct landlock_ruleset_attr grew with the ABI: pass only the fields this kernel knows.
  const attr = new BigUint64Array([BigInt(handledFs(abi)), BigInt(handledNet(abi)), BigInt(handledScope(abi))]);
  const attrSize = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
  const rulesetFd = Number(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ptr(attr), attrSize, 0, 0));
  if (rulesetFd < 0) throw new LandlockError("landlock_create_ruleset", errno(libc));
  return rulesetFd;
}

/** Adds path rules to a ruleset fd. Paths that do not exist are skipped (a dir one compiler lacks); any other failure throws. */
export function addRules(libc: Libc, rulesetFd: number, ruleset: LandlockRuleset): void {
  const fsRights = handledFs(ruleset.abi);
  // struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
  const ruleBytes = new Uint8Array(12);
  const rule = new DataView(ruleBytes.buffer);
  for (const { path, access } of ruleset.rules) {
    const name = cString(path);
    const fd = libc.open(ptr(name), O_PATH | O_CLOEXEC, 0);
    if (fd < 0) continue;
    rule.setBigUint64(0, BigInt(access & fsRights), true);
    rule.setInt32(8, fd, true);
    const added = Number(libc.syscall(SYS_LANDLOCK_ADD_RULE, rulesetFd, LANDLOCK_RULE_PATH_BENEATH, ptr(ruleBytes), 0));
    const code = added < 0 ? errno(libc) : 0;
    libc.close(fd);
    if (added < 0) throw new LandlockError(`landlock_add_rule ${path}`, code);
  }
}
