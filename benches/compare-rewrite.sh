#!/usr/bin/env bash
# End-to-end comparison of `leaksweep rewrite apply` with `git filter-repo --replace-text` on a
# copy of a real repository (default: curl/curl, branches and tags only: ~39.5k commits).
#
# The "secrets" are 10 distinct existing lines from blobs of an old commit (planting new ones would
# itself rewrite history). Both tools get the same `literal==>replacement` file and run on separate
# fresh mirror copies under /usr/bin/time -v; the script prints wall time and peak RSS side by side
# with ratios, then checks that both rewritten histories have the same tree for every commit
# (`%T %at %ae` of every commit, sorted; messages may differ: leaksweep also cleans messages).
#
# LEAKSWEEP_BASELINE=/path/to/older/leaksweep also times that build on a third copy, in the same
# run (before/after figures under the same load).
#
# Usage: benches/compare-rewrite.sh SOURCE_REPO [WORKDIR]
#   SOURCE_REPO  a git repository or mirror, e.g. `git clone --mirror https://github.com/curl/curl`
#   WORKDIR      scratch directory (default /tmp/rewrite-bench); it is wiped
# Needs: git, git-filter-repo on PATH (`pip install git-filter-repo`),
# python3, and a release build (`cargo build --release`).
set -euo pipefail

SRC=${1:?usage: $0 SOURCE_REPO [WORKDIR]}
WORK=${2:-/tmp/rewrite-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LEAKSWEEP=${LEAKSWEEP:-$ROOT/target/release/leaksweep}

command -v git-filter-repo >/dev/null || { echo "git-filter-repo not found" >&2; exit 2; }
[ -x "$LEAKSWEEP" ] || { echo "build first: cargo build --release" >&2; exit 2; }

rm -rf "$WORK" && mkdir -p "$WORK"
echo "== base copy of $SRC (branches and tags only)"
git clone -q --bare --no-local "$SRC" "$WORK/base.git"
git -C "$WORK/base.git" fetch -q "$SRC" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
{ git -C "$WORK/base.git" for-each-ref --format='%(refname)' | grep -vE '^refs/(heads|tags)/' || true; } |
    xargs -r -n1 git -C "$WORK/base.git" update-ref -d
# Closed stdin and no inherited stdout: git's repack misreads an inherited regular-file stdout.
git -C "$WORK/base.git" gc -q --prune=now < /dev/null > /dev/null
echo "commits: $(git -C "$WORK/base.git" rev-list --all | wc -l), refs: $(git -C "$WORK/base.git" for-each-ref | wc -l)"

echo "== picking 10 secrets from old blobs"
OLD=$(git -C "$WORK/base.git" rev-list --reverse --first-parent HEAD | sed -n 3000p)
python3 - "$WORK/base.git" "$OLD" > "$WORK/secrets.txt" <<'EOF'
import hashlib, subprocess, sys
repo, commit = sys.argv[1], sys.argv[2]
files = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", commit],
                       capture_output=True, text=True, check=True).stdout.split()
files = sorted(f for f in files if f.endswith(".c"))
picked = []
for f in sorted(files, key=lambda f: hashlib.sha1(f.encode()).hexdigest()):
    data = subprocess.run(["git", "-C", repo, "show", f"{commit}:{f}"], capture_output=True).stdout
    lines = [l.strip() for l in data.split(b"\n")]
    cands = [l for l in lines if 30 <= len(l) <= 70 and b"==>" not in l and l.isascii()
             and any(c in l for c in (b"(", b"=", b'"'))]
    if not cands:
        continue
    l = sorted(cands, key=lambda l: hashlib.sha1(l).hexdigest())[0]
    if any(l in p or p in l for p in picked):
        continue
    picked.append(l)
    if len(picked) == 10:
        break
for i, l in enumerate(picked):
    sys.stdout.write(l.decode() + f"==>REDACTED:bench-{i}\n")
EOF
chmod 600 "$WORK/secrets.txt"
echo "picked $(wc -l < "$WORK/secrets.txt") lines from old commit $OLD"

BASELINE=${LEAKSWEEP_BASELINE:-}
TOOLS="leaksweep filter-repo${BASELINE:+ baseline}"
for tool in $TOOLS; do
    git clone -q --mirror "$WORK/base.git" "$WORK/$tool.git"
    git -C "$WORK/$tool.git" remote remove origin
done

echo "== leaksweep rewrite apply"
/usr/bin/time -v -o "$WORK/leaksweep.time" \
    "$LEAKSWEEP" rewrite apply "$WORK/leaksweep.git" --secrets "$WORK/secrets.txt" > "$WORK/leaksweep.out"
cat "$WORK/leaksweep.out" | head -3
if [ -n "$BASELINE" ]; then
    echo "== baseline: $BASELINE rewrite apply"
    /usr/bin/time -v -o "$WORK/baseline.time" \
        "$BASELINE" rewrite apply "$WORK/baseline.git" --secrets "$WORK/secrets.txt" > "$WORK/baseline.out"
fi
echo "== git filter-repo --replace-text"
(cd "$WORK/filter-repo.git" && /usr/bin/time -v -o "$WORK/filter-repo.time" \
    git filter-repo --force --quiet --replace-text "$WORK/secrets.txt" > "$WORK/filter-repo.out" 2>&1)

wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
LW=$(wall "$WORK/leaksweep.time"); FW=$(wall "$WORK/filter-repo.time")
LR=$(rss "$WORK/leaksweep.time"); FR=$(rss "$WORK/filter-repo.time")
echo
printf '%-14s %10s %14s\n' tool "wall (s)" "peak RSS (MiB)"
printf '%-14s %10s %14d\n' leaksweep "$LW" $((LR / 1024))
printf '%-14s %10s %14d\n' filter-repo "$FW" $((FR / 1024))
if [ -n "$BASELINE" ]; then
    BW=$(wall "$WORK/baseline.time"); BR=$(rss "$WORK/baseline.time")
    printf '%-14s %10s %14d\n' baseline "$BW" $((BR / 1024))
    python3 -c "print(f'ratios leaksweep/baseline: wall {$LW/$BW:.2f}, peak RSS {$LR/$BR:.2f}')"
fi
python3 -c "print(f'ratios leaksweep/filter-repo: wall {$LW/$FW:.2f}, peak RSS {$LR/$FR:.2f}')"

echo "== comparing the rewritten histories"
for tool in $TOOLS; do
    git -C "$WORK/$tool.git" log --branches --tags --format='%T %at %ae' | sort > "$WORK/$tool.trees"
    git -C "$WORK/$tool.git" for-each-ref --format='%(refname) %(objectname)' refs/heads refs/tags |
        while read -r name oid; do echo "$name $(git -C "$WORK/$tool.git" rev-parse "$oid^{tree}")"; done > "$WORK/$tool.reftrees"
done
wc -l "$WORK/leaksweep.trees" "$WORK/filter-repo.trees"
if cmp -s "$WORK/leaksweep.trees" "$WORK/filter-repo.trees" && cmp -s "$WORK/leaksweep.reftrees" "$WORK/filter-repo.reftrees"; then
    echo "trees: identical for every commit and every ref"
else
    echo "trees: DIFFER"; diff "$WORK/leaksweep.trees" "$WORK/filter-repo.trees" | head -20; exit 1
fi
if [ -n "$BASELINE" ]; then
    if cmp -s "$WORK/leaksweep.trees" "$WORK/baseline.trees"; then echo "baseline trees: identical"; else echo "baseline trees: DIFFER"; exit 1; fi
fi
LEFT=$(cut -d'=' -f1 "$WORK/secrets.txt" | head -c0; while IFS= read -r l; do
    lit=${l%%==>*}; git -C "$WORK/leaksweep.git" grep -F -c -e "$lit" $(git -C "$WORK/leaksweep.git" for-each-ref --format='%(objectname)' refs/heads) 2>/dev/null; done < "$WORK/secrets.txt" | wc -l)
echo "secret lines still present at branch tips (leaksweep copy): $LEFT"
