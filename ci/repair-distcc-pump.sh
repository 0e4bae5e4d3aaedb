#!/usr/bin/env bash
# Debian bookworm's distcc-pump is broken on Python 3.11: its C extension passes `int` lengths
# to `s#` without PY_SSIZE_T_CLEAN, every call raises SystemError, and the client silently falls
# back to protocol 2 (distcc-protocol.md §3.8). This rebuilds that extension from Debian's own
# source package with the three lengths made Py_ssize_t, and installs it over Debian's copy.
# Does nothing when the installed extension already works.
set -euo pipefail

ext_dir=/usr/lib/python3/dist-packages/include_server
works() {
  /usr/bin/python3 -c "import sys; sys.path.insert(0, '$ext_dir'); import distcc_pump_c_extensions as e; e.OsPathExists('/')" 2>/dev/null
}
if works; then exit 0; fi
echo "repairing distcc-pump's C extension (PY_SSIZE_T_CLEAN)"

export DEBIAN_FRONTEND=noninteractive
"$(dirname "$0")/enable-deb-src.sh"
apt-get install -y -qq --no-install-recommends dpkg-dev python3-dev autoconf automake gcc make libiberty-dev >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Only the upstream tarball is needed: the extension's source is upstream's.
apt-get source -qq --tar-only distcc >/dev/null 2>&1 || apt-get source -qq --tar-only distcc
tar xzf distcc_*.orig.tar.gz
cd distcc-*/

module=include_server/c_extensions/distcc_pump_c_extensions_module.c
python3=/usr/bin/python3
"$python3" - "$module" <<'PATCH'
import re, sys
path = sys.argv[1]
text = open(path).read()
# CompressLzo1xAlloc's in_len, OsPathExists' and OsPathIsFile's len: the `s#` lengths.
text, n1 = re.subn(r"\n  int in_len;", "\n  Py_ssize_t in_len;", text)
text, n2 = re.subn(r"\n  int len;", "\n  Py_ssize_t len;", text)
if n1 != 1 or n2 < 2:
    sys.exit(f"unexpected source: {n1} in_len, {n2} len declarations")
open(path, "w").write(text)
PATCH

./autogen.sh >/dev/null 2>&1
./configure --disable-Werror >/dev/null
sources=(src/clirpc.c src/clinet.c src/state.c src/srvrpc.c src/pump.c src/rpc.c src/io.c
  src/include_server_if.c src/trace.c src/snprintf.c src/util.c src/tempfile.c src/filename.c
  src/bulk.c src/sendfile.c src/compress.c src/argutil.c src/cleanup.c src/emaillog.c
  src/timeval.c src/netutil.c lzo/minilzo.c "$module")
suffix=$("$python3" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
python_include=$("$python3" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
gcc -shared -fPIC -O2 -D_GNU_SOURCE -DPY_SSIZE_T_CLEAN -I. -Isrc -Ilzo -I"$python_include" \
  "${sources[@]}" -o "distcc_pump_c_extensions$suffix"
install -m 0644 "distcc_pump_c_extensions$suffix" "$ext_dir/"
works || { echo "the rebuilt extension still fails" >&2; exit 1; }
echo "distcc-pump's C extension repaired"
