#!/usr/bin/env bash
# Fuzz the service's API from its OpenAPI document with schemathesis, as each
# demo member in turn, and fail on any server error (5xx). Loopback only.
# Usage: bash scripts/fuzz-api.sh [MAX_EXAMPLES]   (installs schemathesis into .venv if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
"$BIN/python" -c "import schemathesis" 2>/dev/null || "$BIN/pip" install --quiet schemathesis
WORK=$(mktemp -d)
PORT=${PORT:-8433}
"$BIN/python" -m postguard.demo "$WORK/demo" > "$WORK/demo.txt"
POSTGUARD_DATABASE_URL="sqlite:///$WORK/demo/postguard.db" POSTGUARD_KEYS_DIR="$WORK/demo/keys" \
  "$BIN/python" -m uvicorn --factory postguard.web.asgi:build --port "$PORT" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 4
grep -E '^  [0-9]+ ' "$WORK/demo.txt" | while read -r member roles _password token; do
  echo "== as $member $roles"
  "$BIN/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" -H "Authorization: Bearer $token" \
    --checks not_a_server_error --max-examples "${1:-40}"
done
