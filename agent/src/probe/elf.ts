/**
 * @module What an object file is, read from its ELF header: enough for `distccd probe` to say
 * which machine the server compiled for (a PowerPC farm must send back PowerPC objects).
 */

/** e_machine values a distcc farm meets, named as `readelf -h` abbreviates them. */
const MACHINES: Readonly<Record<number, string>> = {
  2: "SPARC",
  3: "i386",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S390",
  40: "ARM",
  43: "SPARC64",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
  258: "LoongArch",
};

const TYPES: Readonly<Record<number, string>> = { 1: "relocatable object", 2: "executable", 3: "shared object", 4: "core file" };

export interface ElfSummary {
  /** The e_machine name (`PowerPC`), or `machine N` for one not in the table. */
  readonly machine: string;
  readonly bits: 32 | 64;
  readonly endian: "big-endian" | "little-endian";
  readonly type: string;
}

/** Reads the ELF identification and header fields; undefined when the bytes are not ELF. */
export function readElfHeader(bytes: Uint8Array): ElfSummary | undefined {
  const isElf = bytes.length >= 20 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf || (bytes[4] !== 1 && bytes[4] !== 2) || (bytes[5] !== 1 && bytes[5] !== 2)) return undefined;
  const littleEndian = bytes[5] === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, littleEndian);
  const machine = view.getUint16(18, littleEndian);
  return {
    machine: MACHINES[machine] ?? `machine ${machine}`,
    bits: bytes[4] === 1 ? 32 : 64,
    endian: littleEndian ? "little-endian" : "big-endian",
    type: TYPES[type] ?? `type ${type}`,
  };
}
