// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, whose variables are written ${NAME}.
/**
 * The image cannot be built here (no container engine), so everything about it that can be
 * checked is: the Dockerfile parsed and linted (dockerfile-ast, dockerfile-utils), its stages,
 * toolchain, whitelist, user, ports and command line; and the runtime contract, reproduced with
 * the built agent started exactly as the image starts it.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Copy, Run } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { argDefault, dockerfile, imageCommand, imageWhitelist, instructions, DOCKERFILE_TEXT as text } from "../helpers/dockerfile.ts";
import { ROOT } from "../helpers/helm.ts";

describe("the Dockerfile", () => {
  test("passes dockerfile-utils' checks", () => {
    expect(validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  test("has a Bun build stage, the Gentoo toolchain, and the runtime", () => {
    expect(dockerfile.getFROMs().map((from) => [from.getBuildStage(), from.getImageName(), from.getImageTag()])).toEqual([
      ["build", "oven/bun", "${BUN_VERSION}-debian"],
      ["portage", "gentoo/portage", "${PORTAGE_TAG}"],
      ["toolchain", "gentoo/stage3", "${STAGE3_TAG}"],
      ["runtime", "toolchain", null],
    ]);
  });

  test("builds with the Bun version package.json pins, for a target chosen by build arg", () => {
    const pinned = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies.bun;
    expect(argDefault("BUN_VERSION")).toBe(pinned);
    const build = instructions("RUN").find((run) => run.getArgumentsContent()?.includes("make build")) as Run | undefined;
    // BUN_TARGET overrides; by default the platform being built picks bun-linux-x64 or -arm64.
    expect(build?.getArgumentsContent()).toContain('make build BUN_TARGET="$target"');
    expect(build?.getArgumentsContent()).toContain(
      '${BUN_TARGET:-bun-linux-$(if [ "$TARGETARCH" = arm64 ]; then echo arm64; else echo x64; fi)}',
    );
    expect(dockerfile.getARGs().map((arg) => arg.getProperty()?.getName())).toEqual(expect.arrayContaining(["TARGETARCH", "BUN_TARGET"]));
    expect(dockerfile.getFROMs()[0]?.getPlatformFlag()?.getValue()).toBe("$BUILDPLATFORM");
  });

  test("pins the Gentoo snapshots to dated tags", () => {
    expect(argDefault("STAGE3_TAG")).toMatch(/^\d{8}$/);
    expect(argDefault("PORTAGE_TAG")).toMatch(/^\d{8}$/);
  });

  test("builds the powerpc-unknown-linux-gnu cross toolchain with crossdev, and cleans up after it", () => {
    const instruction = instructions("RUN").find((r) => r.getArgumentsContent()?.includes("crossdev --stable")) as Run | undefined;
    const run = instruction?.getArgumentsContent() ?? "";
    expect(run).toContain("emerge --quiet --oneshot sys-devel/crossdev");
    expect(run).toContain("crossdev --stable --target powerpc-unknown-linux-gnu");
    expect(run).toContain("powerpc-unknown-linux-gnu-g++ --version");
    expect(run).toContain("rm -rf /var/cache/distfiles/*");
    // The ebuild tree is bind-mounted from the portage stage, so it never lands in a layer.
    expect(instruction?.getFlags().map((flag) => `${flag.getName()}=${flag.getValue()}`)).toEqual([
      "mount=type=bind,from=portage,source=/var/db/repos/gentoo,target=/var/db/repos/gentoo",
    ]);
  });

  test("installs the agent as /usr/bin/distccd and the whitelist at /usr/lib/distcc/whitelist", () => {
    const copies = instructions("COPY").map((c) => [(c as Copy).getFromFlag()?.getValue() ?? "", c.getArgumentsContent()]);
    expect(copies).toContainEqual(["build", "/src/dist/distccd /usr/bin/distccd"]);
    expect(copies).toContainEqual(["", "image/whitelist /usr/lib/distcc/whitelist"]);
    expect(imageWhitelist()).toEqual(["powerpc-unknown-linux-gnu-gcc", "powerpc-unknown-linux-gnu-g++"]);
    const links =
      instructions("RUN")
        .find((r) => r.getArgumentsContent()?.includes("/usr/lib/distcc/"))
        ?.getArgumentsContent() ?? "";
    for (const name of imageWhitelist()) expect(links).toContain(`/usr/lib/distcc/${name}`);
  });

  test("runs as the non-root distcc user", () => {
    expect(instructions("USER").map((u) => u.getArgumentsContent())).toEqual(["3632:3632"]);
    expect(text).toContain("useradd --system --uid 3632 --gid distcc");
  });

  test("exposes the compile and stats ports", () => {
    expect(instructions("EXPOSE").map((e) => e.getArgumentsContent())).toEqual(["3632 3633"]);
  });

  test("ENTRYPOINT and CMD are the seed's command line", () => {
    expect(imageCommand()).toEqual(["/usr/bin/distccd", "--daemon", "--no-fork", "--allow", "0.0.0.0/0", "--log-stderr"]);
  });

  test("the HEALTHCHECK asks the agent itself", () => {
    expect(instructions("HEALTHCHECK")[0]?.getArgumentsContent()).toContain('CMD ["/usr/bin/distccd", "--health-check"]');
  });

  test("carries the OCI labels", () => {
    const labels = instructions("LABEL")
      .map((l) => l.getArgumentsContent() ?? "")
      .join(" ");
    for (const key of ["org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.licenses"]) {
      expect(labels).toContain(key);
    }
  });

  test(".dockerignore lets in exactly what the build copies", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.slice(1).map((line) => line.replace(/^!/, "").replace(/\/\*\*$/, ""));
    const sources = instructions("COPY")
      .filter((c) => (c as Copy).getFromFlag() === null)
      .flatMap((c) => (c.getArgumentsContent() ?? "").split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(4);
    for (const source of sources) expect(allowed).toContain(source);
  });
});
