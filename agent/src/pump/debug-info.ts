/**
 * @module Removes the fake root from an object's debug info the way the C server does
 * (distcc-protocol.md §3.4): every occurrence becomes the same number of slashes, so offsets do
 * not move and `////…/home/u/src` still names the client's directory. Covers `.debug_line_str`
 * (DWARF 5, missed by C 3.4) and `.debug_line` (DWARF 4), in either byte order.
 */

const SECTIONS = new Set([".debug_info", ".debug_str", ".debug_line_str", ".debug_line"]);
/** Compressed sections hold no plain strings to rewrite. */
const SHF_COMPRESSED = 0x800;

interface Section {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly flags: number;
}

function readSections(elf: Uint8Array): Section[] | undefined {
  if (elf.length < 52 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) return undefined;
  const is64 = elf[4] === 2;
  const little = elf[5] === 1;
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const word = (at: number) => view.getUint32(at, little);
  const half = (at: number) => view.getUint16(at, little);
  const addr = (at: number) => (is64 ? Number(view.getBigUint64(at, little)) : word(at));
  const shoff = addr(is64 ? 0x28 : 0x20);
  const shentsize = half(is64 ? 0x3a : 0x2e);
  const shnum = half(is64 ? 0x3c : 0x30);
  const shstrndx = half(is64 ? 0x3e : 0x32);
  if (shoff === 0 || shoff + shnum * shentsize > elf.length || shstrndx >= shnum) return undefined;
  const header = (index: number) => {
    const at = shoff + index * shentsize;
    return is64
      ? { name: word(at), flags: Number(view.getBigUint64(at + 8, little)), offset: addr(at + 0x18), size: addr(at + 0x20) }
      : { name: word(at), flags: word(at + 8), offset: word(at + 0x10), size: word(at + 0x14) };
  };
  const strings = header(shstrndx);
  const nameAt = (offset: number) => {
    const start = strings.offset + offset;
    const end = elf.indexOf(0, start);
    return new TextDecoder().decode(elf.subarray(start, end < 0 ? start : end));
  };
  return Array.from({ length: shnum }, (_, i) => {
    const h = header(i);
    return { name: nameAt(h.name), offset: h.offset, size: h.size, flags: h.flags };
  });
}

/** Rewrites `object` in place; returns how many occurrences of `root` were replaced. */
export function scrubDebugInfo(object: Uint8Array, root: string): number {
  const sections = readSections(object);
  if (!sections) return 0;
  const needle = Buffer.from(root, "utf8");
  const slashes = Buffer.alloc(needle.length, "/");
  const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
  let replaced = 0;
  for (const section of sections) {
    if (!SECTIONS.has(section.name) || section.flags & SHF_COMPRESSED) continue;
    const end = Math.min(section.offset + section.size, bytes.length);
    for (
      let at = bytes.indexOf(needle, section.offset);
      at >= 0 && at + needle.length <= end;
      at = bytes.indexOf(needle, at + needle.length)
    ) {
      slashes.copy(bytes, at);
      replaced++;
    }
  }
  return replaced;
}
