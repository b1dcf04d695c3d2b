#!/usr/bin/env bash
# Runs every toolgate benchmark (release build) and prints one table at the end.
#   - criterion micro-benchmarks: Entra token validation, entra-proxy tokens, Cedar decisions
#     (the median of each);
#   - the audit throughput run (SQLite and PostgreSQL, zero loss checked by counting rows);
#   - the MCP load test (bare rmcp vs the gate vs gateway mode), its own table.
# Needs PostgreSQL for the audit run (scripts/test.sh starts it when installed but stopped).
# Usage: scripts/bench.sh            (LOAD_SECONDS, LOAD_WORKERS, AUDIT_EVENTS adjust the runs)
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
criterion_args=(--warm-up-time 1 --measurement-time 3)

for target in "toolgate-entra validate" "toolgate-proxy tokens" "toolgate-policy decide"; do
  set -- $target
  printf '\n==> cargo bench -p %s --bench %s\n' "$1" "$2"
  cargo bench -q -p "$1" --bench "$2" -- "${criterion_args[@]}" 2>&1 | tee "$out/$2.txt"
done
printf '\n==> cargo bench -p toolgate-audit --bench throughput\n'
cargo bench -q -p toolgate-audit --bench throughput 2>&1 | tee "$out/audit.txt"
printf '\n==> cargo bench -p toolgate --bench mcp_load\n'
cargo bench -q -p toolgate --bench mcp_load 2>&1 | tee "$out/load.txt"

printf '\n\n## Micro-benchmarks (criterion median)\n\n| Benchmark | Median |\n| --- | ---: |\n'
# criterion prints "name\n    time:   [low median high]" (or the name and time on one line).
cat "$out"/validate.txt "$out"/tokens.txt "$out"/decide.txt | awk '
  /time:/ {
    line = $0; sub(/^[[:space:]]+/, "", line)
    name = line; sub(/[[:space:]]*time:.*/, "", name)
    if (name == "") name = prev
    match(line, /\[[^]]*\]/); split(substr(line, RSTART + 1, RLENGTH - 2), t, " ")
    printf "| %s | %s %s |\n", name, t[3], t[4]
    next
  }
  NF { prev = $0; sub(/^[[:space:]]+/, "", prev); sub(/[[:space:]]+$/, "", prev) }'
printf '\n## Audit throughput\n\n'
grep '^|' "$out/audit.txt"
printf '\n## MCP tools/call under load\n\n'
grep -E '^(\||tools/call|audit rows)' "$out/load.txt"
