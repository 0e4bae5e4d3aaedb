#!/usr/bin/env bash
# Makes Debian's source packages reachable (`apt-get source`) when no deb-src entry exists yet.
# The tests fetch distcc's source from it: to repair distcc-pump and to run distcc's own suite.
set -euo pipefail
if grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ || grep -qs '^deb-src' /etc/apt/sources.list; then
  exit 0
fi
cat > /etc/apt/sources.list.d/distcc-agent-src.sources <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt-get update -qq
