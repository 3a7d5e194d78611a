#!/usr/bin/env bash
# `leaksweep git --repos` over many small generated repositories: wall time and peak RSS.
#
# Usage: benches/many-repos.sh [N] [COMMITS]
#   N        repositories to generate (default 100)
#   COMMITS  commits in each (default 5)
# Environment: LEAKSWEEP (default target/release/leaksweep), OUT (working directory, default
# mktemp; the repositories, the list and the reports stay there), THREADS (-j, default all).
#
# Each repository gets a few commits of ordinary files; every fifth holds one database password
# shared with the others of its kind (so the report has secrets found in 20 repositories), and
# every repository one secret of its own. Secrets are random (from /dev/urandom), never copied.
set -euo pipefail

n=${1:-100}
commits=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
leaksweep=${LEAKSWEEP:-$here/target/release/leaksweep}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
[ -x "$leaksweep" ] || { echo "no leaksweep at $leaksweep (cargo build --release)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }

# rand ALPHABET LEN: LEN random characters of ALPHABET (tr ends on SIGPIPE when head has enough).
rand() { (LC_ALL=C tr -dc "$1" </dev/urandom 2>/dev/null || true) | head -c "$2"; }

shared=$(rand 'A-Za-z0-9' 22)
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
: >"$out/repos.txt"
echo "# $n generated repositories" >>"$out/repos.txt"
for ((i = 0; i < n; i++)); do
    dir="$out/repos/svc-$i"
    git init -q -b main "$dir"
    for ((c = 0; c < commits; c++)); do
        printf 'name = "svc-%d"\nversion = "0.%d.0"\n' "$i" "$c" >"$dir/Cargo.toml"
        seq 1 $((c * 20)) | sed "s/^/line /" >"$dir/notes-$c.txt"
        if ((c == commits / 2)); then
            printf 'AWS_ACCESS_KEY_ID=AKIA%s\n' "$(rand 'A-Z2-7' 16)" >"$dir/.env"
            if ((i % 5 == 0)); then
                printf 'DB_PASSWORD=%s\n' "$shared" >>"$dir/.env"
            fi
        fi
        git -C "$dir" add -A
        git -C "$dir" commit -q --no-verify -m "change $c"
    done
    echo "repos/svc-$i" >>"$out/repos.txt"
done

echo "repositories: $n, $commits commits each, in $out   cores: $(nproc)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$out"
threads=()
[ -n "${THREADS:-}" ] && threads=(-j "$THREADS")
/usr/bin/time -v -o time.txt "$leaksweep" git --repos repos.txt -f json -o report.json "${threads[@]}" \
    2>stderr.txt || true
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' time.txt)
rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' time.txt)
cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' time.txt)
python3 - report.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
shared = [f for f in d["findings"] if len(f.get("repositories", [])) > 1]
print(f"findings {s['findings']}, secrets {s['secrets']}, commits {s['commits']}, "
      f"shared entries {len(shared)} (repositories each: {sorted({len(f['repositories']) for f in shared})})")
EOF
tail -1 stderr.txt
printf "wall %.2f s   cpu %.2f s   peak RSS %s MiB   (%s repositories)\n" "$wall" "$cpu" "$rss" "$n"
