/**
 * @module The TCP side: one Bun listener with one handler object. The access list is checked
 * in `open`, before a byte is read; everything after belongs to the Connection.
 */
import type { Socket, TCPSocketListener } from "bun";
import { Connection, type ServerContext } from "./connection.ts";

interface SocketData {
  connection: Connection | undefined;
}

/** `address:port` for logs; an IPv4 client of a `::` listener is written as IPv4, as it connected. */
export function formatPeer(address: string, port: number): string {
  const plain = address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
  return plain.includes(":") ? `[${plain}]:${port}` : `${plain}:${port}`;
}

function transportOf(socket: Socket<SocketData>) {
  return {
    write: (bytes: Uint8Array) => socket.write(bytes),
    end: () => socket.end(),
  };
}

/**
 * Frees a socket read's memory at once. Bun hands every read to JS as a buffer of its own, which
 * would otherwise live until the next garbage collection: a 5 MB source arrives as ~15 of them,
 * each on pages the kernel must fault in afresh. Freed now, the next read reuses the same pages
 * (1,000 page faults a 5 MB body down to ~20). Connection.data keeps nothing of a chunk.
 */
function release(chunk: Buffer): void {
  const { buffer } = chunk;
  if (buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && buffer.byteLength === chunk.length) buffer.transfer(0);
}

/**
 * Binds and serves; throws (EADDRINUSE, EACCES, ...) when the address cannot be bound. With
 * `--reuse-port` the socket has SO_REUSEPORT, so the agent replacing this one binds beside it.
 */
export function listen(ctx: ServerContext, hostname: string, port: number): TCPSocketListener<SocketData> {
  const { keepaliveSeconds, reusePort } = ctx.config.farm;
  return Bun.listen<SocketData>({
    hostname,
    port,
    // Bun's listener takes reusePort as Bun.serve does, though its types list it for connect only.
    ...({ reusePort } as object),
    data: { connection: undefined },
    socket: {
      open(socket) {
        const peer = formatPeer(socket.remoteAddress, socket.remotePort);
        socket.data = { connection: undefined };
        if (!ctx.config.allow.allows(socket.remoteAddress)) {
          ctx.log.warning("dcc_check_client", `connection from client '${peer}' denied by access list`);
          ctx.stats.recordRefusal("access-list");
          socket.end();
          return;
        }
        if (ctx.connections.size >= ctx.config.limits.maxConnections) {
          ctx.log.warning(
            "dcc_check_client",
            `connection from ${peer} closed: ${ctx.config.limits.maxConnections} connections are open (--max-connections)`,
          );
          ctx.stats.recordRefusal("max-connections");
          socket.end();
          return;
        }
        ctx.stats.recordConnection();
        socket.setNoDelay(true);
        // A load balancer or NAT drops a connection idle through a long compile unless it sees traffic.
        if (keepaliveSeconds > 0) socket.setKeepAlive(true, keepaliveSeconds * 1000);
        socket.data.connection = new Connection(ctx, transportOf(socket), peer);
      },
      data(socket, chunk) {
        socket.data.connection?.data(chunk);
        release(chunk);
      },
      drain(socket) {
        socket.data.connection?.drain();
      },
      close(socket) {
        socket.data.connection?.closed();
      },
      error(socket, error) {
        ctx.log.warning("dcc_service_job", `socket error from ${socket.remoteAddress}: ${error.message}`);
        socket.data.connection?.closed();
      },
    },
  });
}
