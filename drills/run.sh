#!/usr/bin/env bash
# Runs one fault drill in its long form, on SQLite and on PostgreSQL.
#
#   bash drills/run.sh kill-9 | renewals | receiver-outage | two-nodes | slow-clients | isolation | bad-input | all
#
# PostgreSQL: KASSA_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
# `cargo test` runs the same drills in a short form. Results are described in DRILLS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

export KASSA_TEST_POSTGRES_URL="${KASSA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export KASSA_DRILL_FULL=1

drill() {
    case "$1" in
        kill-9) cargo test --release --test drills kill_9_under_load -- --nocapture --test-threads 1 ;;
        renewals) cargo test --release --test drills renewals_under_kill_9 -- --nocapture --test-threads 1 ;;
        receiver-outage) cargo test --release --test drills receiver_outage -- --nocapture --test-threads 1 ;;
        two-nodes) cargo test --release --test drills two_nodes -- --nocapture ;;
        slow-clients) cargo test --release --test drills slow_clients -- --nocapture --test-threads 1 ;;
        isolation) cargo test --release --test it isolation -- --nocapture ;;
        bad-input)
            bash drills/bad-input.sh
            KASSA_DRILL_POSTGRES_URL="${KASSA_TEST_POSTGRES_URL%/*}" bash drills/bad-input.sh ;;
        *) echo "unknown drill '$1'; one of: kill-9 renewals receiver-outage two-nodes slow-clients isolation bad-input all" >&2; exit 2 ;;
    esac
}

if [ "${1:-}" = all ]; then
    for name in kill-9 renewals receiver-outage two-nodes slow-clients isolation bad-input; do
        echo "== $name"
        drill "$name"
    done
else
    drill "${1:?name a drill: kill-9 renewals receiver-outage two-nodes slow-clients isolation bad-input all}"
fi
