#!/usr/bin/env bash
# A private PostgreSQL server on 127.0.0.1 for the storage tests (tests/test_postgres.py and the
# concurrency test). Installs PostgreSQL from Debian's packages when it is missing, starts a cluster
# of its own in /tmp (or reuses the one a previous run left running), creates a role and a database,
# and prints the server's URL on stdout (everything else goes to stderr), for .ci/run to export as
# INTERVIEWER_TEST_PG_URL.
#
# It never fails the build: when PostgreSQL cannot be installed or started it says why on stderr,
# prints no URL, and the tests that need the server skip with that reason.
set -u

ROOT_DIR=/tmp/interviewer-pg
DATA="$ROOT_DIR/data"
SOCK="$ROOT_DIR/sock"
PORT_FILE="$ROOT_DIR/port"
ROLE=interviewer
PASSWORD=interviewer-test
DATABASE=interviewer

log() { echo "postgres.sh: $*" >&2; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN="$(pg_bin)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else log "not root and no sudo: cannot install"; fi
    fi
    log "installing PostgreSQL from Debian's packages"
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null; }; then
      log "apt-get could not install postgresql"
    fi
  else
    log "apt-get is not available"
  fi
  BIN="$(pg_bin)"
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  log "PostgreSQL is not installed; the PostgreSQL tests will skip"
  exit 0
fi

# The server refuses to run as root: run it as the 'postgres' user the package created.
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    log "running as root and there is no 'postgres' user to run the server as"
    exit 0
  fi
  as_owner() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_owner() { "$@"; }
  OWNER="$(id -un)"
fi

running() { [ -f "$PORT_FILE" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

if running; then
  PORT="$(cat "$PORT_FILE")"
  log "reusing the server already running on 127.0.0.1:$PORT"
else
  as_owner "$BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$ROOT_DIR"
  mkdir -p "$DATA" "$SOCK"
  chown -R "$OWNER" "$ROOT_DIR" 2>/dev/null || true
  chmod 700 "$DATA"
  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  if ! as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$ROOT_DIR/initdb.log" 2>&1; then
    log "initdb failed: $(tail -n 3 "$ROOT_DIR/initdb.log" | tr '\n' ' ')"
    exit 0
  fi
  # Test settings: loopback only, a private socket folder, no fsync (the data is thrown away).
  if ! as_owner "$BIN/pg_ctl" -D "$DATA" -l "$ROOT_DIR/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      >/dev/null 2>&1; then
    log "the server did not start: $(tail -n 3 "$ROOT_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
    exit 0
  fi
  echo "$PORT" >"$PORT_FILE"
fi

psql_admin() { as_owner "$BIN/psql" -h "$SOCK" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

if ! psql_admin -c "SELECT 1" >/dev/null 2>&1; then
  log "cannot connect to the server on 127.0.0.1:$PORT"
  exit 0
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >/dev/null || { log "cannot create the role"; exit 0; }
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE" >/dev/null || { log "cannot create the database"; exit 0; }
fi

log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') is running on 127.0.0.1:$PORT"
echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
exit 0
