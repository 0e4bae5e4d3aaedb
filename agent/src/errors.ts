/**
 * @module The agent's error family: one base class, a stable `code` on every error, so that
 * callers (the connection, main, tests) decide on codes and never on message text.
 */

export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The byte stream from a client breaks the distcc protocol (distcc-protocol.md §1). */
export class ProtocolError extends AgentError {}

/** A request is well formed but crosses one of the configured limits. */
export class LimitError extends AgentError {}

/** An LZO1X block cannot be decompressed. */
export class LzoError extends AgentError {}

/** Flags or files given at start-up are wrong; main maps this to exit code 101. */
export class ConfigError extends AgentError {}

/** A compile request that is refused before the compiler runs (compiler, options, arguments). */
export class JobRefusedError extends AgentError {}

/** The server, not the request, is at fault (its temp space is full): the client is told so and compiles elsewhere. */
export class ServerFaultError extends AgentError {}
