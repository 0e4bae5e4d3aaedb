/**
 * The PowerPC cross compilers under the names the image gives them
 * (`powerpc-unknown-linux-gnu-gcc`/`-g++`, symlinks to Debian's `powerpc-linux-gnu-*`),
 * and a whitelist file naming them, made once per test process.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GCC = "powerpc-unknown-linux-gnu-gcc";
export const GXX = "powerpc-unknown-linux-gnu-g++";
/** Debian's sysroot for the cross target, for qemu's -L. */
export const SYSROOT = "/usr/powerpc-linux-gnu";

export interface Toolchain {
  /** Holds the image-named compiler symlinks; goes first on PATH. */
  readonly bin: string;
  /** A whitelist file naming GCC and GXX. */
  readonly whitelist: string;
}

let made: Toolchain | undefined;

export function toolchain(): Toolchain {
  if (made) return made;
  const root = mkdtempSync(join(tmpdir(), "toolchain-"));
  chmodSync(root, 0o755);
  const bin = join(root, "bin");
  mkdirSync(bin, { mode: 0o755 });
  symlinkSync("/usr/bin/powerpc-linux-gnu-gcc", join(bin, GCC));
  symlinkSync("/usr/bin/powerpc-linux-gnu-g++", join(bin, GXX));
  const whitelist = join(root, "whitelist");
  writeFileSync(whitelist, `# the image's compilers\n${GCC}\n${GXX}\n`, { mode: 0o644 });
  made = { bin, whitelist };
  return made;
}
