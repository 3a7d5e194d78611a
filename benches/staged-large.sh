#!/usr/bin/env bash
# `leaksweep git --staged` on a repository with many tracked files and one staged change.
# Usage: benches/staged-large.sh [FILES] (default 50000). Builds the repository in a temp dir.
set -euo pipefail
n=${1:-50000}
here=$(cd "$(dirname "$0")/.." && pwd)
leaksweep=${LEAKSWEEP:-$here/target/release/leaksweep}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
git init -q -b main .
# One commit with $n files in 500 directories, written with fast-import (no checkout needed).
{
    echo "commit refs/heads/main"
    echo "committer Bench <bench@example.com> 1700000000 +0000"
    echo "data 5"; echo "init"
    for ((i = 0; i < n; i++)); do
        echo "M 100644 inline d$((i % 500))/f$i.txt"
        echo "data 12"; printf 'line %06d\n' "$i"
    done
} | git fast-import --quiet
git reset -q --hard main
echo "JWT_SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" >> d7/f7.txt
git add d7/f7.txt
echo "repo: $(git ls-files | wc -l) tracked files, $(git diff --cached --name-only | wc -l) staged"
/usr/bin/time -f "leaksweep git --staged: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
    "$leaksweep" git --staged -f json -q -o "$dir/report.json" || true
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('findings', [(f['path'], f['line']) for f in d['findings']])" "$dir/report.json"
