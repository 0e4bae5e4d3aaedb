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

  test("has a Bun build stage, the Gentoo toolchain, its slim root, and the runtime", () => {
    expect(dockerfile.getFROMs().map((from) => [from.getBuildStage(), from.getImageName(), from.getImageTag()])).toEqual([
      ["build", "oven/bun", "${BUN_VERSION}-debian"],
      ["portage", "gentoo/portage", "${PORTAGE_TAG}"],
      ["toolchain", "gentoo/stage3", "${STAGE3_TAG}"],
      ["rootfs", "toolchain", null],
      ["runtime", "scratch", null],
    ]);
  });

  test("takes gentoo/portage (published for amd64 only; it is data) for the build machine's platform", () => {
    const portage = dockerfile.getFROMs().find((from) => from.getBuildStage() === "portage");
    expect(portage?.getPlatformFlag()?.getValue()).toBe("$BUILDPLATFORM");
  });

  test("builds the toolchain as binary packages, without namespaces, C and C++ only", () => {
    const run =
      instructions("RUN")
        .find((r) => r.getArgumentsContent()?.includes("crossdev --stable"))
        ?.getArgumentsContent() ?? "";
    expect(run).toContain(`echo 'FEATURES="\${FEATURES} -ipc-sandbox -network-sandbox -pid-sandbox buildpkg"' >> /etc/portage/make.conf`);
    expect(run).toContain('echo "cross-${CROSS_TARGET}/gcc -fortran -openmp -sanitize" > /etc/portage/package.use/zz-cross-gcc');
    // The USE flags go in before crossdev emerges gcc.
    expect(run.indexOf("zz-cross-gcc")).toBeLessThan(run.indexOf("crossdev --stable"));
  });

  test("the runtime is only what runs: the toolchain from binary packages into /out, nothing of the build stages", () => {
    const rootfs =
      instructions("RUN")
        .find((r) => r.getArgumentsContent()?.includes("emerge --root=/out"))
        ?.getArgumentsContent() ?? "";
    expect(rootfs).toContain("quickpkg --quiet --include-config=y '*/*'");
    expect(rootfs).toContain("emerge --root=/out --usepkgonly --oneshot --root-deps=rdeps --with-bdeps=n");
    for (const pkg of ["binutils", "linux-headers", "glibc", "gcc"]) expect(rootfs).toContain(`"cross-\${CROSS_TARGET}/${pkg}"`);
    const runtimeStart = dockerfile.getFROMs().findIndex((from) => from.getBuildStage() === "runtime");
    const runtime = dockerfile
      .getInstructions()
      .filter((i) => i.getRange().start.line > (dockerfile.getFROMs()[runtimeStart]?.getRange().start.line ?? 0));
    const copies = runtime
      .filter((i) => i.getKeyword() === "COPY")
      .map((c) => [(c as Copy).getFromFlag()?.getValue(), c.getArgumentsContent()]);
    expect(copies).toEqual([["rootfs", "/out /"]]);
    expect(runtime.some((i) => i.getKeyword() === "RUN")).toBe(false);
    // Checked before it ships: the slim root compiles C and C++ and starts the agent.
    const check =
      instructions("RUN")
        .find((r) => r.getArgumentsContent()?.includes("chroot /out"))
        ?.getArgumentsContent() ?? "";
    expect(check).toContain('chroot /out "/usr/bin/${CROSS_TARGET}-g++"');
    expect(check).toContain("chroot /out /usr/bin/distccd --version");
  });

  test("builds with the Bun version package.json pins, for a target chosen by build arg", () => {
    const pinned = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies.bun;
    expect(argDefault("BUN_VERSION")).toBe(pinned);
    const build = instructions("RUN").find((run) => run.getArgumentsContent()?.includes("make build")) as Run | undefined;
    // BUN_TARGET overrides; by default the platform being built picks bun-linux-x64 or -arm64.
    expect(build?.getArgumentsContent()).toContain('make build BUN_TARGET="$target"');
    // x64 images get the baseline build: bun-linux-x64 needs AVX2 and dies with "Illegal instruction" without it.
    expect(build?.getArgumentsContent()).toContain(
      '${BUN_TARGET:-bun-linux-$(if [ "$TARGETARCH" = arm64 ]; then echo arm64; else echo x64-baseline; fi)}',
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
    expect(run).toContain('crossdev --stable --target "${CROSS_TARGET}"');
    expect(run).toContain('"${CROSS_TARGET}-g++" --version');
    expect(argDefault("CROSS_TARGET")).toBe("powerpc-unknown-linux-gnu");
    expect(run).toContain("rm -rf /var/cache/distfiles/*");
    // The ebuild tree is bind-mounted from the portage stage, so it never lands in a layer.
    expect(instruction?.getFlags().map((flag) => `${flag.getName()}=${flag.getValue()}`)).toEqual([
      "mount=type=bind,from=portage,source=/var/db/repos/gentoo,target=/var/db/repos/gentoo",
    ]);
  });

  test("installs the agent as /usr/bin/distccd and the whitelist at /usr/lib/distcc/whitelist", () => {
    const copies = instructions("COPY").map((c) => [(c as Copy).getFromFlag()?.getValue() ?? "", c.getArgumentsContent()]);
    expect(copies).toContainEqual(["build", "/src/dist/distccd /out/usr/bin/distccd"]);
    expect(copies).toContainEqual(["", "image/whitelist /out/usr/lib/distcc/whitelist"]);
    expect(imageWhitelist()).toEqual(["powerpc-unknown-linux-gnu-gcc", "powerpc-unknown-linux-gnu-g++"]);
    const links =
      instructions("RUN")
        .find((r) => r.getArgumentsContent()?.includes("/usr/lib/distcc/"))
        ?.getArgumentsContent() ?? "";
    for (const name of imageWhitelist())
      expect(links).toContain(`"/out/usr/lib/distcc/\${CROSS_TARGET}-${name.replace("powerpc-unknown-linux-gnu-", "")}"`);
  });

  test("runs as the non-root distcc user", () => {
    expect(instructions("USER").map((u) => u.getArgumentsContent())).toEqual(["3632:3632"]);
    expect(text).toContain("echo 'distcc:x:3632:3632:distcc-agent:/nonexistent:/sbin/nologin' >> /out/etc/passwd");
    expect(text).toContain("echo 'distcc:x:3632:' >> /out/etc/group");
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
