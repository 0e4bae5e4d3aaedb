/**
 * @module `--inetd`: one connection on stdin/stdout. The client address is read from the kernel
 * tables for the socket on fd 0, so `--allow` is enforced here too; a pipe (ssh mode) has no
 * address and is allowed, as in the C server.
 */
import { closeSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { Connection, type ServerContext } from "./server/connection.ts";
import { formatPeer } from "./server/listener.ts";

/** Decodes the kernel's hex address (`0100007F:1F90`, or 32 hex digits for IPv6). */
function decodeProcAddress(hex: string): { address: string; port: number } {
  const [host = "", port = "0"] = hex.split(":");
  const words = host.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return { address: bytes.join("."), port: Number.parseInt(port, 16) };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  const text = groups.join(":");
  const mapped = text.match(/^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] as string, 16);
    const lo = Number.parseInt(mapped[2] as string, 16);
    return { address: `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, port: Number.parseInt(port, 16) };
  }
  return { address: text, port: Number.parseInt(port, 16) };
}

/** The peer of the TCP socket on fd 0, or undefined when stdin is not a TCP socket. */
function stdinPeer(): { address: string; port: number } | undefined {
  let link: string;
  try {
    link = readlinkSync("/proc/self/fd/0");
  } catch {
    return undefined;
  }
  const inode = link.match(/^socket:\[(\d+)\]$/)?.[1];
  if (inode === undefined) return undefined;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[9] === inode && fields[2] !== undefined) return decodeProcAddress(fields[2]);
    }
  }
  return undefined;
}

export async function serveInetd(ctx: ServerContext): Promise<void> {
  const peer = stdinPeer();
  const name = peer ? formatPeer(peer.address, peer.port) : "stdin";
  // Without --allow, inetd mode trusts whoever started it (inetd's or sshd's own access rules).
  if (peer && ctx.config.allow.rules.length > 0 && !ctx.config.allow.allows(peer.address)) {
    ctx.log.warning("dcc_check_client", `connection from client '${name}' denied by access list`);
    return;
  }
  const { promise: finished, resolve } = Promise.withResolvers<void>();
  const connection = new Connection(
    ctx,
    {
      write(bytes) {
        try {
          let offset = 0;
          while (offset < bytes.length) offset += writeSync(1, bytes, offset);
          return bytes.length;
        } catch {
          return -1;
        }
      },
      end() {
        closeSync(1);
        resolve();
      },
    },
    name,
  );
  void (async () => {
    for await (const chunk of Bun.stdin.stream()) connection.data(chunk);
    // A pipe's writer may close once the request is sent (stdin redirected from a file); the
    // reply still has stdout. Only an EOF before the request is complete ends the job.
    if (connection.receiving) {
      connection.closed();
      resolve();
    }
  })();
  await finished;
}
