/**
 * @module The TCP side: one Bun listener with one handler object. The access list is checked
 * in `open`, before a byte is read; everything after belongs to the Connection.
 */
import type { Socket, TCPSocketListener } from "bun";
import { Connection, type ServerContext } from "./connection.ts";

interface SocketData {
  connection: Connection | undefined;
}

export function formatPeer(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function transportOf(socket: Socket<SocketData>) {
  return {
    write: (bytes: Uint8Array) => socket.write(bytes),
    end: () => socket.end(),
  };
}

/** Binds and serves; throws (EADDRINUSE, EACCES, ...) when the address cannot be bound. */
export function listen(ctx: ServerContext, hostname: string, port: number): TCPSocketListener<SocketData> {
  return Bun.listen<SocketData>({
    hostname,
    port,
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
        socket.data.connection = new Connection(ctx, transportOf(socket), peer);
      },
      data(socket, chunk) {
        socket.data.connection?.data(chunk);
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
