/**
 * @module The input of a pump-mode job as the cache key sees it: every NAME with the SHA-256 of
 * its content, every LINK with its target, and for a link that mirrors a server directory (the
 * compiler's system headers) that directory's identity on this server. Fed by the pump file
 * tree as entries arrive, so nothing is read back from disk.
 */
import { statSync } from "node:fs";

/** Macros that expand to the time of the compile: a unit using them gives a new object each time. */
const CLOCK_MACROS = ["__TIME__", "__DATE__", "__TIMESTAMP__"];

/** Fed by a pump FileTree, as its observer. */
export class TreeManifest {
  private readonly lines: string[] = [];
  /** Some file names `__DATE__`, `__TIME__` or `__TIMESTAMP__`: not cacheable. */
  usesClock = false;

  file(name: string, data: Uint8Array): void {
    this.lines.push(`F\0${name}\0${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`);
    if (this.usesClock) return;
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.usesClock = CLOCK_MACROS.some((macro) => text.includes(macro));
  }

  link(name: string, target: string, mirrors?: string): void {
    let line = `L\0${name}\0${target}`;
    if (mirrors !== undefined) {
      // dpkg and rpm replace headers by renaming, which changes the directory's mtime.
      try {
        const stat = statSync(mirrors);
        line += `\0${stat.dev}:${stat.ino}:${stat.mtimeMs}`;
      } catch {
        line += "\0absent";
      }
    }
    this.lines.push(line);
  }

  /** The entries in a fixed order, as the key hashes them. */
  sorted(): string {
    return this.lines.sort().join("\n");
  }
}
