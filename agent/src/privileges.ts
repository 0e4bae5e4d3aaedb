/**
 * @module Dropping root, as the C server does at start-up: the compilers never run as root.
 * Users are looked up in /etc/passwd because Bun and Node have no getpwnam.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.ts";

/** Upstream's user, Debian's, then the universal fallback. */
const DEFAULT_USERS = ["distcc", "distccd", "nobody"];

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

function lookupAccount(name: string, passwd = "/etc/passwd"): Account | undefined {
  let text = "";
  try {
    text = readFileSync(passwd, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 4) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return undefined;
}

/**
 * Switches to `user` (or the first default that exists) when running as root; returns the
 * account switched to, or undefined when not root.
 */
export function dropPrivileges(user: string | undefined): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const account = user !== undefined ? lookupAccount(user) : DEFAULT_USERS.map((name) => lookupAccount(name)).find((a) => a !== undefined);
  if (account === undefined)
    throw new ConfigError(
      "E_CONFIG_USER",
      user !== undefined ? `--user ${user}: no such user` : "no distcc, distccd or nobody user to run as",
    );
  if (account.uid === 0) return account;
  process.setgid?.(account.gid);
  // Supplementary groups of root must not survive the switch.
  process.setgroups?.([account.gid]);
  process.setuid?.(account.uid);
  return account;
}
