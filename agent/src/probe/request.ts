/**
 * @module The one compile `distccd probe` asks for: a protocol-2 request (DIST 2, the argv, the
 * source as one LZO block in DOTI) for a C file small enough to need no preprocessing.
 */
import { compress } from "../lzo/lzo1x.ts";
import { encodeArgv, encodeBody, encodeHeader, Token } from "../protocol/index.ts";

export const PROBE_PROTOCOL = 2;
export const PROBE_SOURCE_NAME = "distcc-probe.c";
/** No #include: the client sends preprocessed source, and this already is. */
export const PROBE_SOURCE = "int distcc_probe(int x)\n{\n  return x * 3 + 1;\n}\n";

export function probeRequest(compiler: string): Uint8Array[] {
  const argv = [compiler, "-c", PROBE_SOURCE_NAME, "-o", "distcc-probe.o"];
  return [
    encodeHeader(Token.DIST, PROBE_PROTOCOL),
    ...encodeArgv(argv),
    ...encodeBody(Token.DOTI, compress(new TextEncoder().encode(PROBE_SOURCE))),
  ];
}
