/**
 * @module The order of tokens in a compile request, for protocols 1, 2 and 3
 * (distcc-protocol.md §1.3): frames in, typed events out. Pure; no I/O.
 */
import { LimitError, ProtocolError } from "../errors.ts";
import type { Frame } from "./decoder.ts";
import { type ProtocolVersion, Token } from "./tokens.ts";

export interface RequestLimits {
  /** Most ARGV entries one request may carry. */
  readonly maxArgc: number;
  /** Most NAME entries one pump request may carry. */
  readonly maxFiles: number;
}

export type RequestEvent =
  | { kind: "version"; version: ProtocolVersion }
  | { kind: "cwd"; path: string }
  | { kind: "argv"; argv: string[] }
  | { kind: "source-start"; length: number }
  | { kind: "source-chunk"; bytes: Uint8Array }
  | { kind: "source-end" }
  | { kind: "file-start"; name: string; length: number }
  | { kind: "file-chunk"; bytes: Uint8Array }
  | { kind: "file-end" }
  | { kind: "link"; name: string; target: string };

enum Step {
  Dist,
  Cdir,
  Argc,
  Argv,
  Doti,
  Nfil,
  Name,
  FileOrLink,
  Done,
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strings travel as opaque bytes; we accept only what can be passed on as an argument or path. */
function decodeString(token: string, bytes: Uint8Array): string {
  if (bytes.includes(0)) throw new ProtocolError("E_PROTOCOL_NUL", `${token} string contains a NUL byte`);
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new ProtocolError("E_PROTOCOL_ENCODING", `${token} string is not valid UTF-8`, { cause });
  }
}

export class RequestParser {
  private step = Step.Dist;
  private version: ProtocolVersion = 1;
  private argc = 0;
  private argv: string[] = [];
  private files = 0;
  private pendingName = "";
  private inBulk = false;

  constructor(private readonly limits: RequestLimits) {}

  get protocol(): ProtocolVersion {
    return this.version;
  }

  /** True once the last token of the request has been read. */
  get complete(): boolean {
    return this.step === Step.Done;
  }

  feed(frame: Frame): RequestEvent | undefined {
    if (this.inBulk) return this.bulk(frame);
    switch (this.step) {
      case Step.Dist: {
        const value = this.expectValue(frame, Token.DIST);
        if (value !== 1 && value !== 2 && value !== 3) {
          throw new ProtocolError("E_PROTOCOL_VERSION", `unsupported protocol version ${value} (this server speaks 1, 2 and 3)`);
        }
        this.version = value;
        this.step = value === 3 ? Step.Cdir : Step.Argc;
        return { kind: "version", version: value };
      }
      case Step.Cdir: {
        const path = decodeString(Token.CDIR, this.expectString(frame, Token.CDIR));
        this.step = Step.Argc;
        return { kind: "cwd", path };
      }
      case Step.Argc: {
        const argc = this.expectValue(frame, Token.ARGC);
        if (argc === 0) throw new ProtocolError("E_PROTOCOL_ARGC", "ARGC is 0: a request must name a compiler");
        if (argc > this.limits.maxArgc) {
          throw new LimitError("E_LIMIT_ARGC", `ARGC ${argc} exceeds the limit of ${this.limits.maxArgc}`);
        }
        this.argc = argc;
        this.step = Step.Argv;
        return undefined;
      }
      case Step.Argv: {
        this.argv.push(decodeString(Token.ARGV, this.expectString(frame, Token.ARGV)));
        if (this.argv.length < this.argc) return undefined;
        if (this.argv[0] === "") throw new ProtocolError("E_PROTOCOL_ARGV", "the compiler name (argv[0]) is empty");
        this.step = this.version === 3 ? Step.Nfil : Step.Doti;
        return { kind: "argv", argv: this.argv };
      }
      case Step.Doti: {
        if (frame.kind !== "bulk-start" || frame.token !== Token.DOTI) throw this.unexpected(frame, Token.DOTI);
        this.inBulk = true;
        return { kind: "source-start", length: frame.length };
      }
      case Step.Nfil: {
        const count = this.expectValue(frame, Token.NFIL);
        if (count > this.limits.maxFiles) {
          throw new LimitError("E_LIMIT_FILES", `NFIL ${count} exceeds the limit of ${this.limits.maxFiles} files`);
        }
        this.files = count;
        this.step = count === 0 ? Step.Done : Step.Name;
        return undefined;
      }
      case Step.Name: {
        this.pendingName = decodeString(Token.NAME, this.expectString(frame, Token.NAME));
        this.step = Step.FileOrLink;
        return undefined;
      }
      case Step.FileOrLink: {
        this.files--;
        if (frame.kind === "bulk-start" && frame.token === Token.FILE) {
          this.inBulk = true;
          return { kind: "file-start", name: this.pendingName, length: frame.length };
        }
        if (frame.kind === "string" && frame.token === Token.LINK) {
          const target = decodeString(Token.LINK, frame.bytes);
          const name = this.pendingName;
          this.afterFile();
          return { kind: "link", name, target };
        }
        throw this.unexpected(frame, "FILE or LINK");
      }
      case Step.Done:
        throw new ProtocolError("E_PROTOCOL_TRAILING", `unexpected ${frame.token} after the end of the request`);
    }
  }

  private bulk(frame: Frame): RequestEvent | undefined {
    const source = this.step === Step.Doti;
    if (frame.kind === "bulk-chunk")
      return source ? { kind: "source-chunk", bytes: frame.bytes } : { kind: "file-chunk", bytes: frame.bytes };
    if (frame.kind !== "bulk-end") throw this.unexpected(frame, "the rest of a body");
    this.inBulk = false;
    if (source) {
      this.step = Step.Done;
      return { kind: "source-end" };
    }
    this.afterFile();
    return { kind: "file-end" };
  }

  private afterFile(): void {
    this.step = this.files === 0 ? Step.Done : Step.Name;
  }

  private expectValue(frame: Frame, token: string): number {
    if (frame.kind !== "value" || frame.token !== token) throw this.unexpected(frame, token);
    return frame.value;
  }

  private expectString(frame: Frame, token: string): Uint8Array {
    if (frame.kind !== "string" || frame.token !== token) throw this.unexpected(frame, token);
    return frame.bytes;
  }

  private unexpected(frame: Frame, expected: string): ProtocolError {
    return new ProtocolError("E_PROTOCOL_ORDER", `protocol derailment: expected token "${expected}", got "${frame.token}"`);
  }
}
