/**
 * @module distcc token names and protocol versions (distcc-protocol.md §1.2).
 */

/** Every packet starts with a 4-letter token and 8 hex digits (§1.1). */
export const HEADER_LENGTH = 12;

export const Token = {
  DIST: "DIST",
  CDIR: "CDIR",
  ARGC: "ARGC",
  ARGV: "ARGV",
  DOTI: "DOTI",
  NFIL: "NFIL",
  NAME: "NAME",
  FILE: "FILE",
  LINK: "LINK",
  DONE: "DONE",
  STAT: "STAT",
  SERR: "SERR",
  SOUT: "SOUT",
  DOTO: "DOTO",
  DOTD: "DOTD",
} as const;
export type Token = (typeof Token)[keyof typeof Token];

/** Tokens whose value is the length of a body that follows (§1.2 "Has body"). */
export const BODY_TOKENS: ReadonlySet<string> = new Set([
  Token.CDIR,
  Token.ARGV,
  Token.DOTI,
  Token.NAME,
  Token.FILE,
  Token.LINK,
  Token.SERR,
  Token.SOUT,
  Token.DOTO,
  Token.DOTD,
]);

/** Bodies that may be large and are streamed to disk instead of being held whole. */
export const BULK_TOKENS: ReadonlySet<string> = new Set([Token.DOTI, Token.FILE]);

/** 1 plain, 2 LZO bodies, 3 pump mode (§0). */
export type ProtocolVersion = 1 | 2 | 3;

/** Versions 2 and 3 compress every bulk body with LZO1X-1 (§2). */
export function isCompressed(version: ProtocolVersion): boolean {
  return version >= 2;
}
