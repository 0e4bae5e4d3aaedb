#!/usr/bin/env bash
# Runs the distcc project's own test suite (test/testdistcc.py, from Debian's source package;
# nothing is vendored) against our dist/distccd, with Debian's distcc client: every case that
# exercises the server, plain and with LZO. The suite's daemons must not run as root (they
# would switch to another user and lose their temp dirs), so as root it runs as a test user.
# Usage: upstream-testsuite.sh AGENT_BINARY. Prints one line per case; exits 1 if any fails.
set -euo pipefail
agent=$(realpath "${1:?usage: upstream-testsuite.sh AGENT_BINARY}")
cache="$(cd "$(dirname "$0")/.." && pwd)/.tools/distcc-upstream"

# Cases that need helper programs from upstream's own build (h_compile, h_scanargs, ...) are left out.
cases=(CompileHello_Case CommaInFilename_Case ComputedInclude_Case BackslashInMacro_Case
  BackslashInFilename_Case CPlusPlus_Case Gdb_Case GdbOpt1_Case Lsdistcc_Case BadLogFile_Case
  DashMD_DashMF_DashMT_Case StartStopDaemon_Case CompressedCompile_Case DashONoSpace_Case
  WriteDevNull_Case CppError_Case BadInclude_Case PreprocessPlainText_Case NoDetachDaemon_Case
  DashD_Case DashWpMD_Case BinFalse_Case BinTrue_Case VersionOption_Case HelpOption_Case
  MultipleCompile_Case ImplicitCompiler_Case DaemonBadPort_Case AccessDenied_Case NoServer_Case
  ImpliedOutput_Case SyntaxError_Case NoHosts_Case MissingCompiler_Case RemoteAssemble_Case
  ModeBits_Case EmptySource_Case AbsSourceFilename_Case Concurrent_Case HundredFold_Case
  BigAssFile_Case)

if [[ ! -f "$cache/test/testdistcc.py" ]]; then
  "$(dirname "$0")/enable-deb-src.sh"
  work=$(mktemp -d)
  # Quiet when it works; on failure, run again to show apt's reason.
  if ! (cd "$work" && apt-get source -qq --tar-only distcc >/dev/null 2>&1); then
    (cd "$work" && apt-get source -qq --tar-only distcc)
  fi
  mkdir -p "$cache"
  tar xzf "$work"/distcc_*.orig.tar.gz -C "$cache" --strip-components=1
  rm -rf "$work"
fi

run=$(mktemp -d)
# NoDetachDaemon_Case signals the /bin/sh it started the daemon through, not the daemon (dash
# forks for `sh -c`), so that daemon outlives the case, under the C server too. Stop such
# leftovers after each pass: one still on the suite's port would answer the next pass's cases.
stop_leftover_daemons() { pkill -f -- "$run/_testtmp/" || true; }
trap 'stop_leftover_daemons; rm -rf "$run"' EXIT
cp -r "$cache/test" "$run/test"
mkdir "$run/bin"
cp "$agent" "$run/bin/distccd"
user=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  user=distcc-agent-test
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  chown -R "$user" "$run"
  chmod 755 "$run"
fi

status=0
passed=0
failed=0
for options in "" "--lzo"; do
  log="$run/suite${options}.log"
  cmd="cd $run && PATH=$run/bin:/usr/bin:/bin TMPDIR=$run /usr/bin/python3 test/testdistcc.py $options ${cases[*]}"
  if [[ $user == "$(id -un)" ]]; then bash -c "$cmd" > "$log" 2>&1 || true
  else su "$user" -s /bin/bash -c "$cmd" > "$log" 2>&1 || true; fi
  # A daemon's message can split a case's line; its verdict then ends the next line.
  stop_leftover_daemons
  ok=$(grep -cE '(^| )OK$' "$log" || true)
  echo "upstream testdistcc.py ${options:-(plain)}: $ok of ${#cases[@]} cases OK"
  passed=$((passed + ok))
  failed=$((failed + ${#cases[@]} - ok))
  if [[ $ok -ne ${#cases[@]} ]]; then
    cat "$log" >&2
    status=1
  fi
done
echo "upstream: $passed passed, $failed failed"
exit $status
