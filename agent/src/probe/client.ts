/**
 * @module The probe's one connection: send the request, read the reply until DOTO, within a
 * deadline. Every way it can fail comes back as a reason, never as a throw.
 */
import { type ProbeReply, ReplyReader } from "./reply.ts";
import type { ProbeTarget } from "./target.ts";

const CONNECT_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (nothing listens there)",
  ENOTFOUND: "no such host",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
};

function connectFailure(error: Error & { code?: string }): string {
  return `cannot connect: ${CONNECT_ERRORS[error.code ?? ""] ?? error.message}`;
}

export type Exchange = { ok: true; reply: ProbeReply } | { ok: false; reason: string };

export async function exchange(target: ProbeTarget, request: readonly Uint8Array[], timeoutMs: number): Promise<Exchange> {
  const { promise, resolve } = Promise.withResolvers<Exchange>();
  const reader = new ReplyReader();
  let pending = Buffer.concat(request as Uint8Array[]);
  let received = 0;
  const timer = setTimeout(
    () => resolve({ ok: false, reason: `no complete reply within ${timeoutMs / 1000} s (${reader.progress})` }),
    timeoutMs,
  );
  const send = (socket: { write(data: Uint8Array): number }) => {
    // A socket may take part of a write; the rest goes on drain.
    const written = socket.write(pending);
    pending = pending.subarray(Math.max(written, 0));
  };
  // Not awaited before the outcome: a connect to an address that never answers must still end
  // at the deadline, not at the kernel's connect timeout.
  const connecting = Bun.connect({
    hostname: target.host,
    port: target.port,
    socket: {
      open: send,
      drain: send,
      data(_socket, chunk) {
        received += chunk.length;
        try {
          reader.push(chunk);
          if (reader.complete) resolve({ ok: true, reply: reader.result() });
        } catch (error) {
          resolve({ ok: false, reason: `bad reply: ${(error as Error).message}` });
        }
      },
      close() {
        resolve({
          ok: false,
          reason:
            received === 0
              ? "the server closed the connection without a reply (client address not allowed, compiler not whitelisted, or request refused: see the server's log)"
              : `the server closed the connection after ${received} bytes, ${reader.progress}`,
        });
      },
      connectError(_socket, error) {
        resolve({ ok: false, reason: connectFailure(error) });
      },
      error(_socket, error) {
        resolve({ ok: false, reason: `connection failed: ${error.message}` });
      },
    },
  }).catch((error: Error) => {
    resolve({ ok: false, reason: connectFailure(error) });
    return undefined;
  });
  const outcome = await promise;
  clearTimeout(timer);
  // A connect still pending at the deadline is closed whenever it completes.
  void connecting.then((socket) => socket?.end());
  return outcome;
}
