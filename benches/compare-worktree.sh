#!/usr/bin/env bash
# End-to-end working-tree scan, side by side with peer scanners, on the same machine in the same run.
#
#   benches/compare-worktree.sh DIR [PEER_BIN_DIR]
#
# DIR: a checked-out working tree (e.g. a clone of a large open-source project).
# PEER_BIN_DIR (default /tmp/peers/bin): gitleaks, betterleaks, kingfisher binaries. Every peer runs
# offline (kingfisher with --no-validate --no-update-check).
# Prints wall time (hyperfine mean over RUNS runs, default 5, or without hyperfine the median of
# RUNS /usr/bin/time runs after one warm-up),
# peak RSS (/usr/bin/time), finding counts, and each figure as a ratio to leaksweep.
set -euo pipefail
dir=$(cd "${1:?usage: compare-worktree.sh DIR [PEER_BIN_DIR]}" && pwd)
peers=${2:-/tmp/peers/bin}
here=$(cd "$(dirname "$0")/.." && pwd)
ls_bin="$here/target/release/leaksweep"
[ -x "$ls_bin" ] || (cd "$here" && cargo build --release -q)
out=$(mktemp -d)
runs=${RUNS:-5}

declare -A cmd
cmd[leaksweep]="$ls_bin scan $dir --no-ignore -q --format json -o $out/leaksweep.json"
[ -x "$peers/gitleaks" ] && cmd[gitleaks]="$peers/gitleaks dir $dir --no-banner --exit-code 0 --report-format json --report-path $out/gitleaks.json --log-level error"
[ -x "$peers/betterleaks" ] && cmd[betterleaks]="$peers/betterleaks fs $dir --no-banner --exit-code 0 -o $out/betterleaks.json --log-level error"
[ -x "$peers/kingfisher" ] && cmd[kingfisher]="$peers/kingfisher scan $dir --git-history none --no-validate --no-update-check --format json --output $out/kingfisher.json -q"

count() {
  python3 - "$1" "$2" <<'PY'
import json, sys
tool, path = sys.argv[1], sys.argv[2]
try:
    text = open(path).read().strip()
except OSError:
    print("?"); sys.exit()
if tool == "leaksweep":
    print(json.loads(text)["summary"]["findings"])
elif tool == "kingfisher":
    try:
        d = json.loads(text)
        print(len(d.get("findings", d) if isinstance(d, dict) else d))
    except json.JSONDecodeError:
        print(sum(1 for l in text.splitlines() if l.strip()))
else:
    print(len(json.loads(text) or []))
PY
}

printf '%-12s %10s %10s %10s %9s %9s\n' tool wall_s ratio rss_MiB ratio findings
declare -A wall rss
for t in leaksweep gitleaks betterleaks kingfisher; do
  [ -n "${cmd[$t]:-}" ] || continue
  if command -v hyperfine >/dev/null; then
    hyperfine -N -w 1 -r "$runs" -i --export-json "$out/$t.hf.json" "${cmd[$t]}" >/dev/null 2>&1
    wall[$t]=$(python3 -c "import json;print(json.load(open('$out/$t.hf.json'))['results'][0]['mean'])")
  fi
  # Without hyperfine: one warm-up run, then the median of $runs timed runs.
  [ -n "${wall[$t]:-}" ] || ${cmd[$t]} >/dev/null 2>&1 || true
  : > "$out/$t.walls"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$out/$t.time" ${cmd[$t]} >/dev/null 2>&1 || true
    read -r e m < <(tail -n 1 "$out/$t.time") || true
    echo "$e" >> "$out/$t.walls"
    [ -n "${wall[$t]:-}" ] && break
  done
  e=$(sort -n "$out/$t.walls" | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
  wall[$t]=${wall[$t]:-$e}
  rss[$t]=$m
done
for t in leaksweep gitleaks betterleaks kingfisher; do
  [ -n "${wall[$t]:-}" ] || continue
  python3 -c "
w,b,r,rb=${wall[$t]},${wall[leaksweep]},${rss[$t]},${rss[leaksweep]}
print('%-12s %10.3f %9.2fx %10.1f %8.2fx %9s' % ('$t', w, w/b, r/1024, r/rb, '$(count $t $out/$t.json)'))"
done
rm -rf "$out"
