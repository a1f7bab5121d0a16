#!/usr/bin/env bash
# The main job on the bundled samples, with the embedded target (PGlite): no server needed.
#   1. sync the primary's DDL/DCL into .demo/secondary, and verify it against a primary
#      built from the sample generator's own plan;
#   2. replay the primary's queries against the secondary;
#   3. compare the replay's timings with the primary's own, into .demo/report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
WINDOW=(--from 2026-11-17 --to 2026-11-21)
CLI=(node bin/auditreplay.js)
npx tsx samples/build-primary.ts .demo/primary
"${CLI[@]}" sync --source samples/logs/postgres "${WINDOW[@]}" --target pglite://.demo/secondary
"${CLI[@]}" verify --primary pglite://.demo/primary --secondary pglite://.demo/secondary
"${CLI[@]}" replay --source samples/logs/postgres "${WINDOW[@]}" --target pglite://.demo/secondary --speed max --progress none --out .demo/replay.jsonl
"${CLI[@]}" compare --baseline-logs samples/logs/postgres "${WINDOW[@]}" --candidate .demo/replay.jsonl \
  --markdown .demo/report.md --json .demo/report.json --report .demo/report.html
echo "demo: the report is at $(pwd)/.demo/report.html (summary in .demo/report.md)"
