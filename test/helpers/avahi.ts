/**
 * An avahi-daemon on one test host, on a private D-Bus system bus: the distcc client's
 * `+zeroconf` talks to avahi over the system bus (libdbus honours DBUS_SYSTEM_BUS_ADDRESS), so
 * the bus, the daemon and the client all get that address. The daemon runs in the host's
 * namespace with /run on a tmpfs of its own (its pid file must not meet another avahi's) and a
 * host name of its own. `stop` ends both processes.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../../agent/test/helpers/wait.ts";
import { type Host, TestNetwork } from "./netns.ts";

export interface Avahi {
  /** For DBUS_SYSTEM_BUS_ADDRESS. */
  readonly busAddress: string;
  log(): string;
  stop(): Promise<void>;
}

const BUS_CONFIG = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

const AVAHI_CONFIG = (hostName: string) => `[server]
host-name=${hostName}
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`;

function collect(proc: ReturnType<typeof Bun.spawn>): () => string {
  let text = "";
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) text += new TextDecoder().decode(chunk);
  })();
  return () => text;
}

export async function startAvahi(host: Host, hostName: string): Promise<Avahi> {
  const dir = mkdtempSync(join(tmpdir(), "avahi-"));
  const socket = join(dir, "system_bus_socket");
  writeFileSync(join(dir, "bus.conf"), BUS_CONFIG(socket));
  writeFileSync(join(dir, "avahi-daemon.conf"), AVAHI_CONFIG(hostName));
  const busAddress = `unix:path=${socket}`;
  const bus = Bun.spawn([...TestNetwork.on(host), "dbus-daemon", `--config-file=${join(dir, "bus.conf")}`, "--nofork", "--nopidfile"], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const busLog = collect(bus);
  const fail = async (message: string): Promise<never> => {
    bus.kill("SIGTERM");
    await bus.exited;
    throw new Error(message);
  };
  await until(() => existsSync(socket) || bus.exitCode !== null, "the D-Bus socket").catch(() => fail(`no D-Bus socket: ${busLog()}`));
  if (bus.exitCode !== null) throw new Error(`dbus-daemon exited: ${busLog()}`);
  const avahi = Bun.spawn(
    [
      ...TestNetwork.on(host),
      "sh",
      "-c",
      `mount -t tmpfs tmpfs /run && exec avahi-daemon -f ${join(dir, "avahi-daemon.conf")} --no-drop-root --no-chroot --no-rlimits --no-proc-title`,
    ],
    { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress }, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const log = collect(avahi);
  await until(() => log().includes("Server startup complete") || avahi.exitCode !== null, "avahi-daemon to start").catch(() => {
    avahi.kill("SIGTERM");
  });
  if (avahi.exitCode !== null || !log().includes("Server startup complete")) {
    avahi.kill("SIGTERM");
    await avahi.exited;
    await fail(`avahi-daemon did not start: ${log()}`);
  }
  return {
    busAddress,
    log,
    async stop() {
      avahi.kill("SIGTERM");
      await avahi.exited;
      bus.kill("SIGTERM");
      await bus.exited;
    },
  };
}
