/**
 * @module The wire protocol's public surface: what the server may import.
 */
export { Decoder, type DecoderLimits, type Frame } from "./decoder.ts";
export { encodeArgv, encodeBody, encodeHeader } from "./encode.ts";
export { type RequestEvent, type RequestLimits, RequestParser } from "./request.ts";
export { HEADER_LENGTH, isCompressed, type ProtocolVersion, Token } from "./tokens.ts";
