#!/usr/bin/env bash
# Runs the browser tests of the hosted checkout page, the merchant dashboard, the customer
# portal and the API reference in a headless Chromium (checkout.test.mjs, dashboard.test.mjs,
# portal.test.mjs and docs.test.mjs, through run.mjs).
#
#   tests/browser/run.sh [test-name ...]        (default: every test)
#
# Installs the pinned playwright-core into tests/browser/node_modules when it is missing or
# package-lock.json changed, starts its own `kassa serve` on a fresh database, and stops it at
# the end. Uses the system's Chromium (no browser is downloaded). Screenshots go to
# target/browser-screenshots/<test>.png (and dashboard-<page>.png for the dashboard's pages).
#
# Environment:
#   KASSA_BIN                 kassa binary (default target/debug/kassa)
#   KASSA_CHROMIUM            Chromium executable (default /usr/bin/chromium)
#   KASSA_TEST_DATABASE_URL   an empty database to use instead of a fresh SQLite file
#   KASSA_BROWSER_VERBOSE=1   stack traces and the server log of failing tests
#
# Prints one line per test and a closing `browser: N passed, N failed` line. Exits 0 when every
# test passed, 1 when one failed, 2 when the tests could not run (no kassa, no Chromium).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

KASSA_BIN="${KASSA_BIN:-$root/target/debug/kassa}"
case "$KASSA_BIN" in
  /*) ;;
  *) KASSA_BIN="$(cd "$(dirname "$KASSA_BIN")" && pwd)/$(basename "$KASSA_BIN")" ;;
esac
if [ ! -x "$KASSA_BIN" ]; then
  echo "kassa binary not found or not executable: $KASSA_BIN (build it, or set KASSA_BIN)" >&2
  exit 2
fi
export KASSA_BIN

KASSA_CHROMIUM="${KASSA_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$KASSA_CHROMIUM" ]; then
  echo "Chromium not found at $KASSA_CHROMIUM: install it (Debian: apt-get install chromium)" \
    "or point KASSA_CHROMIUM at a Chromium or Chrome executable" >&2
  exit 2
fi
export KASSA_CHROMIUM

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node and npm are needed (Node.js 20 or newer)" >&2
  exit 2
fi

# --- node_modules: npm ci when missing or when package.json / package-lock.json changed -------
hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }
want="$(hash_of "$here/package.json" "$here/package-lock.json")-$(node --version)"
stamp="$here/node_modules/.kassa-browser-lock"
installed() {
  [ -d "$here/node_modules/playwright-core" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}
if ! installed; then
  # Two runs at once: one installs, the other waits and then finds it done.
  exec 9>"$here/.install.lock"
  flock 9
  if ! installed; then
    echo "==> npm ci in $here"
    if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
      echo "FAIL setup: npm ci failed"
      echo "browser: 0 passed, 1 failed"
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
  flock -u 9
  exec 9>&-
fi

# --- the tests ---------------------------------------------------------------------------------
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
node "$here/run.mjs" "$@" 2>&1 | tee "$log"
rc="${PIPESTATUS[0]}"
set -e
if ! grep -qE '^browser: [0-9]+ passed, [0-9]+ failed$' "$log"; then
  if [ "$rc" = 2 ]; then
    exit 2 # a usage error, already explained
  fi
  # The tests died before reporting.
  echo "FAIL run: the browser tests stopped early (exit code $rc)"
  echo "browser: 0 passed, 1 failed"
  exit 1
fi
[ "$rc" = 0 ] || exit 1
