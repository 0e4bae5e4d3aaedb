# syntax=docker/dockerfile:1.7
# distcc-agent on Gentoo with a PowerPC cross toolchain built by crossdev.
#   docker build -t ghcr.io/OWNER/distcc:VERSION .             (make image)
#   docker buildx build --platform linux/arm64 ...               (arm64 nodes)

# Keep in step with the "bun" devDependency in package.json (a test checks).
ARG BUN_VERSION=1.4.5
# Pinned Gentoo snapshots: the stage3 system and the ebuild tree crossdev builds from.
ARG STAGE3_TAG=20251124
ARG PORTAGE_TAG=20251124

# ---- build: the agent as one executable -------------------------------------------------
# Runs on the build machine's platform and cross-compiles: no emulation for arm64 images.
FROM --platform=$BUILDPLATFORM oven/bun:${BUN_VERSION}-debian AS build
ARG TARGETARCH
# bun-linux-x64 or bun-linux-arm64; by default the platform being built (buildx --platform).
ARG BUN_TARGET
# make runs `npm ci`, as on a developer's machine; node and npm are only needed here.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json Makefile tsconfig.json ./
COPY agent/src agent/src
RUN target="${BUN_TARGET:-bun-linux-$(if [ "$TARGETARCH" = arm64 ]; then echo arm64; else echo x64; fi)}" \
 && make build BUN_TARGET="$target"

# ---- toolchain: Gentoo with crossdev's powerpc-unknown-linux-gnu gcc/g++ --------------------
FROM gentoo/portage:${PORTAGE_TAG} AS portage
FROM gentoo/stage3:${STAGE3_TAG} AS toolchain
# The ebuild tree is bind-mounted, never copied: it stays out of the image's layers.
RUN --mount=type=bind,from=portage,source=/var/db/repos/gentoo,target=/var/db/repos/gentoo \
    set -eux; \
    emerge --quiet --oneshot sys-devel/crossdev; \
    mkdir -p /var/db/repos/crossdev/profiles /var/db/repos/crossdev/metadata /etc/portage/repos.conf; \
    echo crossdev > /var/db/repos/crossdev/profiles/repo_name; \
    printf 'masters = gentoo\nthin-manifests = true\n' > /var/db/repos/crossdev/metadata/layout.conf; \
    printf '[crossdev]\nlocation = /var/db/repos/crossdev\npriority = 10\nmasters = gentoo\nauto-sync = no\n' \
      > /etc/portage/repos.conf/crossdev.conf; \
    crossdev --stable --target powerpc-unknown-linux-gnu; \
    powerpc-unknown-linux-gnu-gcc --version; \
    powerpc-unknown-linux-gnu-g++ --version; \
    rm -rf /var/cache/distfiles/* /var/cache/binpkgs/* /var/tmp/portage/* /var/log/portage /tmp/*

# ---- runtime ---------------------------------------------------------------------------------
FROM toolchain AS runtime
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/distcc-agent/distcc-agent
LABEL org.opencontainers.image.title="distcc-agent" \
      org.opencontainers.image.description="distccd (distcc-agent) with a powerpc-unknown-linux-gnu cross toolchain" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="GPL-2.0-or-later"
COPY --from=build /src/dist/distccd /usr/bin/distccd
COPY image/whitelist /usr/lib/distcc/whitelist
# The C server's masquerade entries, for tools that look there; the agent itself reads the whitelist.
RUN ln -s ../../bin/powerpc-unknown-linux-gnu-gcc /usr/lib/distcc/powerpc-unknown-linux-gnu-gcc \
 && ln -s ../../bin/powerpc-unknown-linux-gnu-g++ /usr/lib/distcc/powerpc-unknown-linux-gnu-g++ \
 && groupadd --system --gid 3632 distcc \
 && useradd --system --uid 3632 --gid distcc --home-dir /nonexistent --shell /sbin/nologin distcc
USER 3632:3632
WORKDIR /tmp
EXPOSE 3632 3633
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/usr/bin/distccd", "--health-check"]
ENTRYPOINT ["/usr/bin/distccd"]
CMD ["--daemon", "--no-fork", "--allow", "0.0.0.0/0", "--log-stderr"]
