#!/usr/bin/env bash
# satwatch set-up: system packages (PostgreSQL for the store tests, Chromium
# for the page tests, Node.js/npm for the web assets), then the Python package
# with its test extras, then the bundled web assets.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"

# Web page assets (JavaScript and the Natural Earth map from npm, bundled).
if [ -f satwatch/web/package.json ]; then
  (cd satwatch/web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi
