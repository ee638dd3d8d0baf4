#!/usr/bin/env bash
# Runs the official Stripe SDKs (stripe-python, stripe-node) against kassa, and a client
# generated from kassa's own /openapi.json (openapi-python-client).
#
#   tests/sdk/run.sh [python|node|generated|all]        (default: all)
#
# Each suite starts its own `kassa serve` on a fresh database and stops it at the end.
#
# Environment:
#   KASSA_BIN                        kassa binary (default target/debug/kassa)
#   KASSA_SDK_CACHE                  where the Python virtualenv lives (default target/sdk,
#                                    relative to the repository root)
#   KASSA_TEST_DATABASE_URL          an empty database for the suite being run (one suite only);
#                                    default: a fresh SQLite file in a temporary directory
#   KASSA_TEST_DATABASE_URL_PYTHON   an empty database for the Python suite (wins over the above)
#   KASSA_TEST_DATABASE_URL_NODE     an empty database for the Node suite (wins over the above)
#   KASSA_TEST_DATABASE_URL_GENERATED  an empty database for the generated client's suite (the same)
#
# Prints each suite's checks, one line each, and a closing `sdk: N passed, N failed` line.
# Exits non-zero when a check failed or a suite could not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
suite="${1:-all}"

case "$suite" in
  python | node | generated | all) ;;
  *)
    echo "usage: $0 [python|node|generated|all]" >&2
    exit 2
    ;;
esac

KASSA_BIN="${KASSA_BIN:-$root/target/debug/kassa}"
case "$KASSA_BIN" in
  /*) ;;
  *) KASSA_BIN="$(cd "$(dirname "$KASSA_BIN")" && pwd)/$(basename "$KASSA_BIN")" ;;
esac
if [ ! -x "$KASSA_BIN" ]; then
  echo "kassa binary not found or not executable: $KASSA_BIN (set KASSA_BIN)" >&2
  exit 2
fi
export KASSA_BIN

cache="${KASSA_SDK_CACHE:-target/sdk}"
case "$cache" in
  /*) ;;
  *) cache="$root/$cache" ;;
esac

# One database URL per suite: a suite needs an empty database of its own.
db_python="${KASSA_TEST_DATABASE_URL_PYTHON:-}"
db_node="${KASSA_TEST_DATABASE_URL_NODE:-}"
db_generated="${KASSA_TEST_DATABASE_URL_GENERATED:-}"
if [ -n "${KASSA_TEST_DATABASE_URL:-}" ]; then
  if [ "$suite" = all ] && { [ -z "$db_python" ] || [ -z "$db_node" ] || [ -z "$db_generated" ]; }; then
    echo "KASSA_TEST_DATABASE_URL names one database, but 'all' runs three suites that each need" \
      "an empty one: run '$0 python', '$0 node' and '$0 generated' separately, or set" \
      "KASSA_TEST_DATABASE_URL_PYTHON, KASSA_TEST_DATABASE_URL_NODE and" \
      "KASSA_TEST_DATABASE_URL_GENERATED" >&2
    exit 2
  fi
  db_python="${db_python:-$KASSA_TEST_DATABASE_URL}"
  db_node="${db_node:-$KASSA_TEST_DATABASE_URL}"
  db_generated="${db_generated:-$KASSA_TEST_DATABASE_URL}"
fi

hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# Runs in parallel (one per database engine) share the virtualenv and node_modules: one at a
# time.
mkdir -p "$cache"
exec 9>"$cache/.setup.lock"
flock 9

# --- Python: a virtualenv with the pinned requirements, reinstalled only when they change ------
setup_python() {
  local venv="$cache/venv" req="$here/python/requirements.txt" stamp want
  want="$(hash_of "$req")-$(python3 -c 'import sys; print(sys.version.split()[0])')"
  stamp="$venv/.kassa-sdk-requirements"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "==> creating $venv"
  # Called from an `if`, where `set -e` does not apply: stop at the first failure by hand.
  rm -rf "$venv" || return 1
  mkdir -p "$cache" || return 1
  python3 -m venv "$venv" || return 1
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" || return 1
  echo "$want" >"$stamp"
}

# --- Node: npm ci when node_modules is missing or older than package-lock.json ----------------
setup_node() {
  local dir="$here/node" stamp want
  want="$(hash_of "$dir/package.json" "$dir/package-lock.json")-$(node --version)"
  stamp="$dir/node_modules/.kassa-sdk-lock"
  if [ -d "$dir/node_modules/stripe" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "==> npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  echo "$want" >"$stamp"
}

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

status=0
run_suite() {
  local name="$1"
  shift
  echo "==> $name suite"
  set +e
  "$@" 2>&1 | tee "$out/$name.log"
  local rc="${PIPESTATUS[0]}"
  set -e
  if [ "$rc" != 0 ]; then
    status=1
  fi
}

if [ "$suite" = python ] || [ "$suite" = all ]; then
  if setup_python; then
    run_suite python env KASSA_TEST_DATABASE_URL="$db_python" \
      "$cache/venv/bin/python" "$here/python/conformance.py"
  else
    echo "FAIL setup: could not install the Python requirements" | tee "$out/python.log"
    status=1
  fi
fi

if [ "$suite" = generated ] || [ "$suite" = all ]; then
  if setup_python; then
    run_suite generated env KASSA_TEST_DATABASE_URL="$db_generated" \
      "$cache/venv/bin/python" "$here/python/generated_client.py"
  else
    echo "FAIL setup: could not install the Python requirements" | tee "$out/generated.log"
    status=1
  fi
fi

if [ "$suite" = node ] || [ "$suite" = all ]; then
  if setup_node; then
    run_suite node env KASSA_TEST_DATABASE_URL="$db_node" node "$here/node/conformance.mjs"
  else
    echo "FAIL setup: npm ci failed" | tee "$out/node.log"
    status=1
  fi
fi

# One closing line over every suite that ran.
passed=0
failed=0
for log in "$out"/*.log; do
  [ -e "$log" ] || continue
  line="$(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)"
  if [ -z "$line" ]; then
    failed=$((failed + 1)) # the suite died before reporting
    continue
  fi
  p="$(sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line")"
  f="$(sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")"
  passed=$((passed + p))
  failed=$((failed + f))
done
if [ "$failed" != 0 ]; then
  status=1
fi
echo "sdk: $passed passed, $failed failed"
exit "$status"
