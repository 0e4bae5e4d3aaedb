# syntax=docker/dockerfile:1.7
# distcc-agent with a PowerPC cross toolchain built by crossdev on Gentoo, shipped in a slim
# root: only what runs (the agent, cross binutils, gcc and glibc, their libraries).
#   docker build -t ghcr.io/OWNER/distcc:VERSION .             (make image)
#   docker buildx build --platform linux/arm64 ...               (on an arm64 machine: see release.yml)

# Keep in step with the "bun" devDependency in package.json (a test checks).
ARG BUN_VERSION=1.4.5
# Pinned Gentoo snapshots: the stage3 system and the ebuild tree crossdev builds from.
ARG STAGE3_TAG=20251124
ARG PORTAGE_TAG=20251124
ARG CROSS_TARGET=powerpc-unknown-linux-gnu

# ---- build: the agent as one executable -------------------------------------------------
# Runs on the build machine's platform and cross-compiles: no emulation for arm64 images.
FROM --platform=$BUILDPLATFORM oven/bun:${BUN_VERSION}-debian AS build
ARG TARGETARCH
# bun-linux-x64-baseline (any x86-64: bun-linux-x64 needs AVX2, which older nodes and
# conservative VM CPU models lack) or bun-linux-arm64; by default the platform being built.
ARG BUN_TARGET
# make runs `npm ci`, as on a developer's machine; node and npm are only needed here.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json Makefile tsconfig.json ./
COPY agent/src agent/src
RUN target="${BUN_TARGET:-bun-linux-$(if [ "$TARGETARCH" = arm64 ]; then echo arm64; else echo x64-baseline; fi)}" \
 && make build BUN_TARGET="$target"

# ---- portage: the ebuild tree, only data --------------------------------------------------
# gentoo/portage is published for amd64 only; its files are the same for every platform.
FROM --platform=$BUILDPLATFORM gentoo/portage:${PORTAGE_TAG} AS portage

# ---- toolchain: crossdev builds the cross toolchain as binary packages ----------------------
FROM gentoo/stage3:${STAGE3_TAG} AS toolchain
ARG CROSS_TARGET
# A build container may not make namespaces; buildpkg keeps every package crossdev emerges.
# The cross gcc compiles C and C++ only: no Fortran, OpenMP or sanitizer runtimes to build.
# The ebuild tree is bind-mounted, never copied: it stays out of the image's layers.
RUN --mount=type=bind,from=portage,source=/var/db/repos/gentoo,target=/var/db/repos/gentoo \
    set -eux; \
    echo 'FEATURES="${FEATURES} -ipc-sandbox -network-sandbox -pid-sandbox buildpkg"' >> /etc/portage/make.conf; \
    mkdir -p /etc/portage/package.use /var/db/repos/crossdev/profiles /var/db/repos/crossdev/metadata /etc/portage/repos.conf; \
    echo "cross-${CROSS_TARGET}/gcc -fortran -openmp -sanitize" > /etc/portage/package.use/zz-cross-gcc; \
    emerge --quiet --oneshot sys-devel/crossdev; \
    echo crossdev > /var/db/repos/crossdev/profiles/repo_name; \
    printf 'masters = gentoo\nthin-manifests = true\n' > /var/db/repos/crossdev/metadata/layout.conf; \
    printf '[crossdev]\nlocation = /var/db/repos/crossdev\npriority = 10\nmasters = gentoo\nauto-sync = no\n' \
      > /etc/portage/repos.conf/crossdev.conf; \
    crossdev --stable --target "${CROSS_TARGET}"; \
    "${CROSS_TARGET}-gcc" --version; \
    "${CROSS_TARGET}-g++" --version; \
    rm -rf /var/cache/distfiles/* /var/tmp/portage/* /var/log/portage /tmp/*

# ---- rootfs: what runs, installed from binary packages into /out ----------------------------
FROM toolchain AS rootfs
ARG CROSS_TARGET
# The stage3's own packages become binary packages too, so emerge can install the toolchain's
# runtime dependencies (glibc, gmp, mpfr, mpc, zstd, ...) into the empty root: --root-deps=rdeps
# takes what they need to run, nothing they need to build.
RUN --mount=type=bind,from=portage,source=/var/db/repos/gentoo,target=/var/db/repos/gentoo \
    set -eux; \
    quickpkg --quiet --include-config=y '*/*'; \
    emerge --root=/out --usepkgonly --oneshot --root-deps=rdeps --with-bdeps=n --quiet \
      "cross-${CROSS_TARGET}/binutils" "cross-${CROSS_TARGET}/linux-headers" \
      "cross-${CROSS_TARGET}/glibc" "cross-${CROSS_TARGET}/gcc"; \
    rm -rf /out/var/db/pkg /out/var/cache /out/usr/share/doc /out/usr/share/man /out/usr/share/info /out/usr/share/gtk-doc; \
    mkdir -p -m 1777 /out/tmp; \
    mkdir -p /out/usr/lib/distcc /out/etc; \
    ln -s "../../bin/${CROSS_TARGET}-gcc" "/out/usr/lib/distcc/${CROSS_TARGET}-gcc"; \
    ln -s "../../bin/${CROSS_TARGET}-g++" "/out/usr/lib/distcc/${CROSS_TARGET}-g++"; \
    grep -q '^root:' /out/etc/passwd 2>/dev/null || echo 'root:x:0:0:root:/root:/sbin/nologin' >> /out/etc/passwd; \
    grep -q '^root:' /out/etc/group 2>/dev/null || echo 'root:x:0:' >> /out/etc/group; \
    echo 'distcc:x:3632:3632:distcc-agent:/nonexistent:/sbin/nologin' >> /out/etc/passwd; \
    echo 'distcc:x:3632:' >> /out/etc/group
COPY --from=build /src/dist/distccd /out/usr/bin/distccd
COPY image/whitelist /out/usr/lib/distcc/whitelist
# The slim root must compile on its own: C and C++, and the agent must start.
RUN set -eux; \
    printf 'int main(void) { return 0; }\n' > /out/tmp/check.c; \
    printf '#include <string>\nint main() { return std::string("ok").size() == 2 ? 0 : 1; }\n' > /out/tmp/check.cpp; \
    chroot /out "/usr/bin/${CROSS_TARGET}-gcc" -O2 -c /tmp/check.c -o /tmp/check.o; \
    chroot /out "/usr/bin/${CROSS_TARGET}-g++" -O2 /tmp/check.cpp -o /tmp/check; \
    chroot /out /usr/bin/distccd --version; \
    rm -f /out/tmp/check*

# ---- runtime ---------------------------------------------------------------------------------
FROM scratch AS runtime
ARG VERSION=0.3.0
ARG SOURCE=https://github.com/distcc-agent/distcc-agent
LABEL org.opencontainers.image.title="distcc-agent" \
      org.opencontainers.image.description="distccd (distcc-agent) with a powerpc-unknown-linux-gnu cross toolchain" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="GPL-2.0-or-later"
COPY --from=rootfs /out /
ENV PATH=/usr/bin:/bin
USER 3632:3632
WORKDIR /tmp
EXPOSE 3632 3633
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/usr/bin/distccd", "--health-check"]
ENTRYPOINT ["/usr/bin/distccd"]
CMD ["--daemon", "--no-fork", "--allow", "0.0.0.0/0", "--log-stderr"]
