#!/usr/bin/env bash
# The web app's cold first load in headless Chromium: time to the rendered
# Next list with 10k outstanding tasks (target <= 500 ms) and the bytes
# transferred (target <= 150 KB). Needs node, chromium and
# npm ci --prefix testdata/node.
set -euo pipefail
cd "$(dirname "$0")/.."
HEPH_BENCH_WEB=1 CI=${CI:-} go test -count=1 -run '^TestWebFirstLoad$' -v . | grep -E 'web first load|target missed|FAIL|SKIP|ok ' 
