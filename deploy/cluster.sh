#!/usr/bin/env bash
# The reference deployment on one machine (`make cluster`, `make cluster-stop`): PostgreSQL,
# Redis, two gunicorn nodes, two background workers and HAProxy in front, each a real process
# on a loopback port. The same pieces on N machines are described in README "Serving in
# production"; deploy/systemd/ has the unit files.
#   deploy/cluster.sh start|stop|status
# Settings (environment): CLUSTER_DIR (/tmp/novadesk-cluster), CLUSTER_PORT (8080, HAProxy),
# CLUSTER_NODE_PORTS ("8081 8082"), CLUSTER_PG_PORT (5433), CLUSTER_REDIS_PORT (6380),
# CLUSTER_WORKERS (2), CLUSTER_DEMO (1: load the demo data into a new database).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${CLUSTER_DIR:-/tmp/novadesk-cluster}
LB_PORT=${CLUSTER_PORT:-8080}
read -r -a NODE_PORTS <<< "${CLUSTER_NODE_PORTS:-8081 8082}"
PG_PORT=${CLUSTER_PG_PORT:-5433}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6380}
WORKERS=${CLUSTER_WORKERS:-2}
BIN=$ROOT/.venv/bin
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

need() { command -v "$1" >/dev/null || { echo "cluster: $1 is missing (apt-get install $2)" >&2; exit 1; }; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

environment() {
  export DATABASE_URL="postgresql://novadesk@127.0.0.1:$PG_PORT/novadesk"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export SECRET_KEY="$(cat "$DIR/secret_key")"
  export NOVADESK_INSTANCE="$DIR/instance"      # uploads, shared by the nodes (one machine here)
  export PUBLIC_URL="http://127.0.0.1:$LB_PORT"
  export TRUSTED_PROXIES=127.0.0.1
  export FLASK_APP=app:create_app
}

wait_http() {
  for _ in $(seq 1 120); do
    if python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "cluster: $1 did not answer (logs in $DIR/log)" >&2
  return 1
}

start() {
  need redis-server redis-server; need haproxy haproxy
  [ -n "$PG_BIN" ] || { echo "cluster: PostgreSQL is missing (apt-get install postgresql)" >&2; exit 1; }
  mkdir -p "$DIR/log" "$DIR/run" "$DIR/instance"
  [ -f "$DIR/secret_key" ] || python3 -c "import secrets; print(secrets.token_hex(32))" > "$DIR/secret_key"
  chmod 600 "$DIR/secret_key"

  if [ ! -f "$DIR/pg/PG_VERSION" ]; then
    mkdir -p "$DIR/pg"; chmod 700 "$DIR/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR/pg" "$DIR/run" && chmod 755 "$DIR"
    as_postgres "$PG_BIN/initdb" -D "$DIR/pg" -U novadesk --auth=trust -E UTF8 --locale=C.UTF-8 > "$DIR/log/initdb.log"
  fi
  touch "$DIR/log/postgresql.log"; [ "$(id -u)" = 0 ] && chown postgres "$DIR/log/postgresql.log"
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/log/postgresql.log" -w -o "-p $PG_PORT -k $DIR/run -c listen_addresses=127.0.0.1" start > /dev/null
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U novadesk -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='novadesk'" | grep -q 1 \
    || "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U novadesk novadesk

  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$DIR/run/redis.pid" --dir "$DIR" \
    --appendonly yes --logfile "$DIR/log/redis.log"

  environment
  cd "$ROOT"
  if [ "${CLUSTER_DEMO:-1}" = 1 ]; then "$BIN/flask" novadesk init > "$DIR/log/init.log"; else "$BIN/flask" db upgrade > "$DIR/log/init.log"; fi

  local n=0
  for port in "${NODE_PORTS[@]}"; do
    n=$((n + 1))
    WEB_CONCURRENCY=1 HOST=127.0.0.1 PORT=$port "$BIN/gunicorn" -c gunicorn.conf.py --daemon --pid "$DIR/run/web-$n.pid" \
      --error-logfile "$DIR/log/web-$n.log"
  done
  for n in $(seq 1 "$WORKERS"); do
    nohup "$BIN/flask" novadesk worker > "$DIR/log/worker-$n.log" 2>&1 &
    echo $! > "$DIR/run/worker-$n.pid"
  done
  for port in "${NODE_PORTS[@]}"; do wait_http "http://127.0.0.1:$port/health"; done

  NOVADESK_LB_BIND="127.0.0.1:$LB_PORT" NOVADESK_NODE1="127.0.0.1:${NODE_PORTS[0]}" NOVADESK_NODE2="127.0.0.1:${NODE_PORTS[1]}" \
    haproxy -f "$ROOT/deploy/haproxy.cfg" -D -p "$DIR/run/haproxy.pid" 2> "$DIR/log/haproxy.log"
  wait_http "http://127.0.0.1:$LB_PORT/health"
  echo "NovaDesk cluster: http://127.0.0.1:$LB_PORT/ (nodes ${NODE_PORTS[*]}, PostgreSQL $PG_PORT, Redis $REDIS_PORT, $WORKERS workers; logs in $DIR/log)"
}

stop_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop() {
  for file in "$DIR"/run/haproxy.pid "$DIR"/run/web-*.pid "$DIR"/run/worker-*.pid "$DIR"/run/redis.pid; do stop_pidfile "$file"; done
  if [ -n "$PG_BIN" ] && [ -f "$DIR/pg/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop > /dev/null || true
  fi
  echo "NovaDesk cluster stopped (data kept in $DIR; remove it for a new one)"
}

status() {
  for file in "$DIR"/run/*.pid; do
    [ -f "$file" ] || continue
    if kill -0 "$(cat "$file")" 2>/dev/null; then echo "$(basename "$file" .pid): running"; else echo "$(basename "$file" .pid): stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
