#!/usr/bin/env bash
# Pathological inputs with bounded time and memory: a benchmark, not a test.
#
# Generates hostile inputs under $PATHO_DIR (default /tmp/leaksweep-patho), runs the release
# binary on each under /usr/bin/time -v, and prints wall time and peak RSS. Files over
# --max-file-size (default 10M) are skipped by design, so the big files are scanned twice: with
# the default (what users get: a skip, constant memory) and with --max-file-size 2G (the matcher
# on the real bytes). Git-specific cases run only when `leaksweep git --help` succeeds.
#
#   benches/pathological.sh            # everything
#   benches/pathological.sh huge_line  # just the named cases
#
# Run it under `nice -n 19` on shared machines; PATHO_THREADS=N passes `-j N` to every scan. Generated inputs are kept between runs
# (delete $PATHO_DIR to regenerate); they take about 3 GiB.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${PATHO_DIR:-/tmp/leaksweep-patho}
BIN=${LEAKSWEEP:-$ROOT/target/release/leaksweep}
mkdir -p "$DIR"

if [[ -z ${LEAKSWEEP:-} ]]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi

printf '%-44s %10s %12s %6s\n' "case" "wall s" "peak RSS MiB" "exit"

# run NAME ARGS...: one measured run; the report goes to /dev/null, stderr to $DIR/NAME.err.
run() {
  local name=$1; shift
  local tv="$DIR/$name.time"
  set +e
  /usr/bin/time -v -o "$tv" "$BIN" "$@" ${PATHO_THREADS:+-j "$PATHO_THREADS"} >/dev/null 2>"$DIR/$name.err"
  local code=$?
  set -e
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$tv" |
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.1f", $2/1024}' "$tv")
  printf '%-44s %10s %12s %6s\n' "$name" "$wall" "$rss" "$code"
}

# gen FILE CMD...: runs CMD to create FILE once.
gen() {
  local f=$1; shift
  [[ -e $f ]] || "$@"
}

# A 1 GiB single line: key-like assignments with no newline anywhere, so every keyword hit's
# window is the whole line.
huge_line() {
  local f="$DIR/huge-line.txt"
  gen "$f" bash -c "yes 'api_key=Zx9QpL2mN7vR4tY8wK3jH6gF1dS5aB0c; token: ' | tr -d '\n' | head -c 1073741824 > '$f'"
  run huge_line_default scan --no-ignore -f json "$f"
  run huge_line_2G scan --no-ignore -f json --max-file-size 2G "$f"
}

# 10 million short lines, every one a keyword hit (`password=`) with a value too short to report;
# then 1.1 million lines that are each a finding (`JWT_SECRET=<43 random chars>`), reported up to
# --max-findings-per-file (1000 by default) and with the limit raised to 100,000.
many_lines() {
  local f="$DIR/many-lines.env"
  gen "$f" bash -c "awk 'BEGIN { for (i = 0; i < 10000000; i++) printf \"password=%08x\\n\", i }' > '$f'"
  run many_lines_default scan --no-ignore -f json "$f"
  run many_lines_2G scan --no-ignore -f json --max-file-size 2G "$f"
  f="$DIR/many-findings.env"
  gen "$f" bash -c "head -c 36000000 /dev/urandom | base64 -w0 | tr '+/' '-_' | fold -w 43 | sed 's/^/JWT_SECRET=/' > '$f'"
  run many_findings_2G scan --no-ignore -f json --max-file-size 2G "$f"
  run many_findings_2G_limit_100k scan --no-ignore -f json --max-file-size 2G --max-findings-per-file 100000 "$f"
}

# Regex-hostile text: 100 MiB of key-like characters with no separator; JWT_SECRET= followed by
# 10 MB of base64 characters; a secret nested in base64 twenty times under `data:`.
regex_hostile() {
  local f="$DIR/keylike.txt"
  gen "$f" bash -c "(printf 'secret_key='; head -c 78643200 /dev/urandom | base64 -w0 | tr -d '+/=' | head -c 104857600) > '$f'"
  run keylike_100M scan --no-ignore -f json --max-file-size 2G "$f"
  f="$DIR/jwt-10M.env"
  gen "$f" bash -c "(printf 'JWT_SECRET='; head -c 7864320 /dev/urandom | base64 -w0; echo) > '$f'"
  run jwt_secret_10M_b64 scan --no-ignore -f json --max-file-size 2G "$f"
  f="$DIR/nested-b64.yaml"
  if [[ ! -e $f ]]; then
    local v='JWT_SECRET=Zx9QpL2mN7vR4tY8wK3jH6gF1dS5aB0cVx7Qw'
    for _ in $(seq 20); do v=$(printf '%s' "$v" | base64 -w0); done
    { echo "kind: Secret"; echo "data:"; for i in $(seq 2000); do echo "  k$i: $v"; done; } > "$f"
  fi
  # 32 MB: over the default size limit, so scanned with it raised, at the default decode depth (2)
  # and at depth 25 (every layer peeled: 2,000 findings of one secret, capped at 1,000).
  run nested_b64_20x2000 scan --no-ignore -f json --max-file-size 2G "$f"
  run nested_b64_20x2000_depth25 scan --no-ignore -f json --max-file-size 2G --decode-depth 25 "$f"
  # Many findings on one line: 8 MiB of `JWT_SECRET=<secret>` pairs separated by spaces (each
  # finding used to rescan its whole line for allow markers and the preview: quadratic).
  f="$DIR/findings-one-line.txt"
  gen "$f" bash -c "head -c 6000000 /dev/urandom | base64 -w0 | tr '+/' '-_' | fold -w 43 | sed 's/^/JWT_SECRET=/' | tr '\n' ' ' > '$f'"
  run findings_one_line_8M scan --no-ignore -f json --max-file-size 2G "$f"
}

# 100,000 small files in one directory tree (100 dirs x 1000 files).
many_files() {
  local d="$DIR/many-files"
  if [[ ! -e $d/.done ]]; then
    rm -rf "$d"
    mkdir -p "$d"
    for i in $(seq -w 0 99); do
      mkdir -p "$d/d$i"
      for j in $(seq -w 0 999); do echo "password=notreal$j" > "$d/d$i/f$j.env"; done
    done
    touch "$d/.done"
  fi
  run many_files_100k scan --no-ignore -f json "$d"
}

# File names with newlines, invalid UTF-8, leading dashes and terminal escapes.
odd_names() {
  local d="$DIR/odd-names"
  rm -rf "$d"
  mkdir -p "$d"
  local secret='JWT_SECRET=Zx9QpL2mN7vR4tY8wK3jH6gF1dS5aB0cVx7Qw'
  printf '%s\n' "$secret" > "$d/$(printf 'new\nline.env')"
  printf '%s\n' "$secret" > "$d/$(printf 'bad\xff\xfeutf8.env')"
  printf '%s\n' "$secret" > "$d/$(printf 'esc\033[31mred.env')"
  printf '%s\n' "$secret" > "$d/-rf.env"
  for f in text json sarif csv junit github markdown; do
    run "odd_names_$f" scan --no-ignore -f "$f" "$d"
  done
}

git_cases() {
  if ! "$BIN" git --help >/dev/null 2>&1; then
    printf '%-44s %s\n' "git_*" "skipped: this build has no \`leaksweep git\`"
    return
  fi
  local r="$DIR/git-big-blob"
  if [[ ! -d $r/.git ]]; then
    git init -q "$r"
    head -c 2147483648 /dev/zero | tr '\0' 'a' > "$r/big.txt"
    git -C "$r" add big.txt && git -C "$r" -c user.name=b -c user.email=b@x commit -qm big
    rm "$r/big.txt"
  fi
  run git_blob_2G git --max-file-size 4G -f json "$r"
  r="$DIR/git-1m-objects"
  if [[ ! -d $r/.git ]]; then
    git init -q "$r"
    # 1,000,000 small blobs through fast-import: 1000 commits of 1000 new files each.
    awk 'BEGIN {
      for (c = 0; c < 1000; c++) {
        print "commit refs/heads/main"; print "committer b <b@x> " 1700000000 + c " +0000"
        print "data 1"; print "c"
        for (f = 0; f < 1000; f++) { s = "password=v" c "x" f; print "M 100644 inline d" c "/f" f ".env"; print "data " length(s); print s }
        print ""
      } }' | git -C "$r" fast-import --quiet
  fi
  run git_1m_objects git -f json "$r"
  # 1,000,000 versions holding one secret: 1000 files, each changed in every one of 1000 commits.
  # Reported as one finding; every version is a finding until they are grouped.
  r="$DIR/git-1m-findings"
  if [[ ! -d $r/.git ]]; then
    git init -q "$r"
    awk 'BEGIN {
      for (c = 0; c < 1000; c++) {
        print "commit refs/heads/main"; print "committer b <b@x> " 1700000000 + c " +0000"
        print "data 1"; print "c"
        for (f = 0; f < 1000; f++) { s = "JWT_SECRET=Zx9QpL2mN7vR4tY8wK3jH6gF1dS5aB0cVx7Qw\nN=" c "x" f; print "M 100644 inline d" f "/f.env"; print "data " length(s); print s }
      } }' | git -C "$r" fast-import --quiet
  fi
  run git_1m_versions_one_secret git -f json "$r"
  r="$DIR/git-100k-tree"
  if [[ ! -d $r/.git ]]; then
    git init -q "$r"
    cp -r "$DIR/many-files/." "$r/" 2>/dev/null || true
    git -C "$r" add -A && git -C "$r" -c user.name=b -c user.email=b@x commit -qm tree
  fi
  run git_100k_files_one_tree git -f json "$r"
}

cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
  cases=(huge_line many_lines regex_hostile many_files odd_names git_cases)
fi
for c in "${cases[@]}"; do
  "$c"
done
