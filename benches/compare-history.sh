#!/usr/bin/env bash
# End-to-end comparison of full-history scans: leaksweep vs gitleaks, betterleaks and kingfisher,
# plus the floor of decompressing every object (`git cat-file --batch-all-objects`).
#
# Usage: benches/compare-history.sh REPO.git [ROUNDS]
#   REPO.git   a local (ideally bare, mirror) clone, e.g. `git clone --mirror <url> curl.git`
#   ROUNDS     repetitions, interleaved tool by tool so load changes hit every tool alike (default 1)
# Environment: LEAKSWEEP (default target/release/leaksweep), GITLEAKS, BETTERLEAKS, KINGFISHER
# (default: found on PATH; a missing tool is skipped). OUT: directory for reports (default mktemp).
#
# Uses hyperfine for wall time when present, and always GNU time (/usr/bin/time -v) for wall,
# CPU (user+sys) and peak RSS. Prints one table row per tool and run, then ratios to leaksweep.
set -euo pipefail

repo=${1:?usage: $0 REPO.git [ROUNDS]}
rounds=${2:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
leaksweep=${LEAKSWEEP:-$here/target/release/leaksweep}
gitleaks=${GITLEAKS:-$(command -v gitleaks || true)}
betterleaks=${BETTERLEAKS:-$(command -v betterleaks || true)}
kingfisher=${KINGFISHER:-$(command -v kingfisher || true)}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }

echo "repo: $repo ($(git --git-dir="$repo" rev-list --all --count) commits on all refs," \
     "$(git --git-dir="$repo" count-objects -v | awk '/size-pack/ {print $2/1024 " MiB packed"}'))"
echo "cores: $(nproc)   load: $(cut -d' ' -f1-3 /proc/loadavg)   reports: $out"

# measure NAME FINDINGS_CMD -- COMMAND...: runs COMMAND under GNU time, prints a row.
measure() {
    local name=$1 count=$2; shift 3
    local tv="$out/$name.time"
    /usr/bin/time -v -o "$tv" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || true
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tv")
    user=$(awk -F': ' '/User time/ {print $2}' "$tv")
    sys=$(awk -F': ' '/System time/ {print $2}' "$tv")
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$tv")
    local findings
    findings=$(eval "$count" 2>/dev/null || echo "?")
    printf "%-22s wall %7.2f s   cpu %7.2f s   peak RSS %6s MiB   findings %s\n" \
        "$name" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$findings" | tee -a "$out/rows"
}

json_len() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d) if isinstance(d,list) else len(d.get('findings',[])))" "$1"; }

# Warm the page cache first: otherwise whichever tool runs first also pays for reading the pack
# from disk (the floor, 10.5 s cold vs 5.9 s warm on git/git).
packs=$(git --git-dir="$repo" rev-parse --path-format=absolute --git-path objects/pack)
cat "$packs"/*.pack >/dev/null 2>&1 || true

for ((r = 1; r <= rounds; r++)); do
    echo "--- round $r"
    measure floor-cat-file "echo -" -- \
        sh -c "git --git-dir='$repo' cat-file --batch-all-objects --batch --unordered >/dev/null"
    measure leaksweep "json_len $out/leaksweep.json" -- \
        "$leaksweep" git "$repo" --format json -o "$out/leaksweep.json" --ignore-errors -q
    if [ -n "$betterleaks" ]; then
        measure betterleaks "json_len $out/betterleaks.json" -- \
            "$betterleaks" git "$repo" --no-banner -o "$out/betterleaks.json"
    fi
    if [ -n "$kingfisher" ]; then
        measure kingfisher "json_len $out/kingfisher.json" -- \
            "$kingfisher" scan "$repo" --no-validate --no-update-check -q -f json -o "$out/kingfisher.json"
    fi
    if [ -n "$gitleaks" ]; then
        measure gitleaks "json_len $out/gitleaks.json" -- \
            "$gitleaks" git "$repo" --no-banner -f json -r "$out/gitleaks.json"
    fi
done

echo "--- ratios to leaksweep (mean over rounds; >1 means the tool used more)"
awk '{name=$1; w[name]+=$3; c[name]+=$6; m[name]+=$10; n[name]++}
     END { lw=w["leaksweep"]/n["leaksweep"]; lc=c["leaksweep"]/n["leaksweep"]; lm=m["leaksweep"]/n["leaksweep"];
           for (k in n) printf "%-22s wall x%.2f   cpu x%.2f   peak RSS x%.2f\n", k, (w[k]/n[k])/lw, (c[k]/n[k])/lc, (m[k]/n[k])/lm }' "$out/rows"
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 0 --runs "$rounds" -i \
        "$leaksweep git $repo --format json -o $out/hyperfine.json --ignore-errors -q" \
        "git --git-dir=$repo cat-file --batch-all-objects --batch --unordered >/dev/null"
fi
