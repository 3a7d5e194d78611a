#!/usr/bin/env bash
# Seeds the corpora from the repository (rule files, rule examples, dotenv samples, a JSON report)
# and runs each fuzz target in turn, one process at a time, under nice:
#
#   fuzz/run.sh [SECONDS] [TARGET...]     # default 600 s each, all four targets
#
# Logs go to fuzz/logs/<target>.log (the last `#N DONE` or stat line has the execution count);
# crashes land in fuzz/artifacts/<target>/. Needs `cargo install cargo-fuzz`; on a stable
# toolchain RUSTC_BOOTSTRAP=1 stands in for nightly.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-600}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(matcher rules_loader dotenv_editor report_reader)
export RUSTC_BOOTSTRAP=1

mkdir -p corpus/{matcher,rules_loader,dotenv_editor,report_reader} logs
# Seeds: rule files for the loader; each rule's quoted examples for the matcher.
cp ../rules/*.toml corpus/rules_loader/
n=0
grep -hoE "^ *'[^']{8,}'|^ *\"[^\"]{8,}\"" ../rules/*.toml | sed -E "s/^ *['\"]//; s/['\"]$//" |
  while IFS= read -r ex; do n=$((n + 1)); printf '%s\n' "$ex" > "corpus/matcher/ex$n"; done
printf 'JWT_SECRET=Zx9QpL2mN7vR4tY8wK3jH6gF1dS5aB0cVx7Qw\nDATABASE_URL=postgresql://app:Fu3l-kpuYNvscpXz5lZXODhb@db:5432/app\n' > corpus/matcher/env
printf 'A=1\r\nexport B="x\\"y"\nC='"'"'q'"'"' # c\nD="multi\nline"\nE=v # c\n\xffv\xff1d09\xffx' > corpus/dotenv_editor/seed
printf 'DATABASE_URL=postgresql://app:Fu3l-kpuYNvscpXz5lZXODhb@db/app\nPW=Fu3l-kpuYNvscpXz5lZXODhb\xffFu3l-kpuYNvscpXz5lZXODhb\xffa b#c' > corpus/dotenv_editor/seed2
cat > corpus/report_reader/seed.json <<'JSON'
{"version":1,"tool":{"name":"leaksweep","version":"0.1.0"},"summary":{},
 "findings":[{"rule_id":"db-connection-uri","description":"d","category":"database","severity":"critical",
 "confidence":"medium","path":".env","line":1,"column":31,"end_line":1,"end_column":55,"start_offset":30,
 "end_offset":54,"preview":"DATABASE_URL=postgresql://app:Fu3l****** (24 chars)@db/app","redacted":"Fu3l****** (24 chars)",
 "entropy":4.2,"secret_id":"x","fingerprint":":.env:db-connection-uri:1","secret":"Fu3l-kpuYNvscpXz5lZXODhb",
 "git":null},
 {"rule_id":"jwt-secret","description":"d","category":"jwt-secret","severity":"high","confidence":"low","path":".env",
 "line":2,"column":12,"end_line":2,"end_column":40,"start_offset":10,"end_offset":5,"preview":"JWT_SECRET=Zx9Q****** (40 chars)",
 "redacted":"Zx9Q****** (40 chars)","entropy":4.9,"secret_id":"y","fingerprint":"f","secret":"Zx9QpL2mN7vR4tY8wK3jH6gF1dS5aB0cVx7Qw"}]}
JSON
# A dictionary of every rule keyword helps the matcher target reach the regexes.
grep -hE '^keywords' ../rules/*.toml | grep -oE '"[^"]+"' | sort -u > logs/keywords.dict

HERE=$(pwd)
for t in "${TARGETS[@]}"; do
  dict=()
  [[ $t == matcher ]] && dict=(-dict="$HERE/logs/keywords.dict")
  mkdir -p "artifacts/$t"
  rm -f fuzz-0.log
  echo "== $t ($SECS s)"
  nice -n 19 cargo fuzz run -O "$t" "$HERE/corpus/$t" -- \
      -jobs=1 -workers=1 -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$HERE/artifacts/$t/" "${dict[@]}" >"logs/$t.out" 2>&1 || true
  # With -jobs=1 libFuzzer writes the worker's output to fuzz-0.log in the working directory.
  if [[ -f fuzz-0.log ]]; then mv fuzz-0.log "logs/$t.log"; else cp "logs/$t.out" "logs/$t.log"; fi
  grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true
  ls "artifacts/$t"
done
