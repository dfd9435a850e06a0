#!/bin/bash
# Throwaway PostgreSQL 15 cluster for the lab: ./pg.sh start | stop | url
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
DIR=/tmp/dbos-lab/pgdata
PORTFILE=/tmp/dbos-lab/pg.port
case "${1:-}" in
start)
  mkdir -p "$DIR" && chown postgres:postgres "$DIR" && chmod 700 "$DIR"
  if [ ! -f "$DIR/PG_VERSION" ]; then
    runuser -u postgres -- "$PGBIN/initdb" -D "$DIR" -A trust -U postgres >/dev/null
  fi
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "$PORT" > "$PORTFILE"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR" -l "$DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR -c max_connections=200 -c fsync=on" start >/dev/null
  runuser -u postgres -- "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" ao 2>/dev/null || true
  echo "postgresql://postgres@127.0.0.1:$PORT/ao"
  ;;
stop)
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null && rm -rf "$DIR" && echo stopped and removed
  ;;
url)
  echo "postgresql://postgres@127.0.0.1:$(cat $PORTFILE)/ao"
  ;;
esac
