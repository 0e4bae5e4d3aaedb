/**
 * @module Reads a protocol-2 reply as it arrives (DONE, STAT, SERR, SOUT, DOTO; distcc-protocol.md
 * §1.3) with the server's own decoder, and decompresses its bodies.
 */
import { ProtocolError } from "../errors.ts";
import { decompress } from "../lzo/lzo1x.ts";
import { Decoder, Token } from "../protocol/index.ts";
import { PROBE_PROTOCOL } from "./request.ts";

/** A reply body (an object, a compiler's stderr) larger than this is not a probe's. */
const MAX_BODY_BYTES = 64 << 20;

export interface ProbeReply {
  /** The compiler's raw wait status (§5). */
  readonly status: number;
  readonly stderr: string;
  readonly object: Uint8Array;
}

const ORDER = [Token.DONE, Token.STAT, Token.SERR, Token.SOUT, Token.DOTO] as const;

export class ReplyReader {
  private readonly decoder = new Decoder({ maxStringBytes: MAX_BODY_BYTES, maxBulkBytes: MAX_BODY_BYTES });
  private readonly values = new Map<string, number>();
  private readonly bodies = new Map<string, Uint8Array>();
  private step = 0;

  get complete(): boolean {
    return this.step === ORDER.length;
  }

  /** Takes bytes from the socket; throws ProtocolError or LimitError on a reply that is not one. */
  push(chunk: Uint8Array): void {
    this.decoder.push(chunk);
    for (let frame = this.decoder.next(); frame !== undefined && !this.complete; frame = this.decoder.next()) {
      const expected = ORDER[this.step] as string;
      if (frame.token !== expected) throw new ProtocolError("E_PROBE_REPLY", `expected ${expected} in the reply, got ${frame.token}`);
      if (frame.kind === "value") {
        if (frame.token === Token.DONE && frame.value !== PROBE_PROTOCOL)
          throw new ProtocolError("E_PROBE_REPLY", `the server answered in protocol ${frame.value}, not ${PROBE_PROTOCOL}`);
        this.values.set(frame.token, frame.value);
      } else if (frame.kind === "string") this.bodies.set(frame.token, frame.bytes);
      this.step++;
    }
  }

  /** How far the reply got, for a failure message. */
  get progress(): string {
    return this.step === 0 ? "no reply" : `a reply cut after ${ORDER[this.step - 1]}`;
  }

  result(): ProbeReply {
    const body = (token: string) => {
      const bytes = this.bodies.get(token) ?? new Uint8Array(0);
      return bytes.length === 0 ? bytes : decompress(bytes, MAX_BODY_BYTES);
    };
    return {
      status: this.values.get(Token.STAT) ?? -1,
      stderr: new TextDecoder().decode(body(Token.SERR)),
      object: body(Token.DOTO),
    };
  }
}
