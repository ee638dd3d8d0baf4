# Sourced by bench/run.sh and bench/renewals.sh: logging, the kassa server they start, the API and
# the databases. The caller sets BIN (the kassa binary), RUN (the run's folder) and PG_URL, and
# stops SRV_PID on exit.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() { # stop_pid PID: SIGTERM, then wait for it
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
psql_admin() { psql "$PG_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ----- kassa ------------------------------------------------------------------------------------

SRV_PID=""; BASE=""
start_server() { # start_server DB_URL LOGNAME [serve flags...]
  local url=$1 name=$2; shift 2
  "$BIN" serve --addr 127.0.0.1:0 --database-url "$url" "$@" >"$RUN/$name.out" 2>>"$RUN/$name.log" &
  SRV_PID=$!
  for _ in $(seq 600); do
    BASE=$(sed -n 's/^kassa is listening on \(http:[^ ]*\).*/\1/p' "$RUN/$name.out")
    [ -n "$BASE" ] && return 0
    kill -0 "$SRV_PID" 2>/dev/null || die "kassa serve exited; see $RUN/$name.log"
    sleep 0.1
  done
  die "kassa serve did not start in 60 s"
}
stop_server() { stop_pid "$SRV_PID"; SRV_PID=""; }

api() { # api METHOD PATH KEY [curl args...]: prints the body, fails on a non-2xx
  local method=$1 path=$2 key=$3; shift 3
  curl -sS --fail-with-body -X "$method" "$BASE$path" -H "Authorization: Bearer $key" "$@"
}
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

new_account() { # new_account DB_URL NAME -> "account_id key"
  "$BIN" account create --name "$2" --json --database-url "$1" |
    python3 -c 'import sys, json; j = json.load(sys.stdin); print(j["account_id"], j["test_secret_key"])'
}

db_query() { # db_query ENGINE DB_URL SQL: one value per line
  if [ "$1" = sqlite ]; then sqlite3 "${2#sqlite://}" "$3"; else psql "$2" -v ON_ERROR_STOP=1 -qAt -c "$3"; fi
}
db_script() { # db_script ENGINE DB_URL < SQL
  if [ "$1" = sqlite ]; then sqlite3 -bail "${2#sqlite://}"; else psql "$2" -v ON_ERROR_STOP=1 -qAt; fi
}
