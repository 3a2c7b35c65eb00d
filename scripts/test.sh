#!/usr/bin/env bash
# satwatch tests: starts a local PostgreSQL (so the store tests run against
# both SQLite and PostgreSQL), then runs pytest on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -z "${SATWATCH_TEST_PG_URL:-}" ]; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -n "$ver" ]; then
    pg_ctlcluster "$ver" main start 2>/dev/null || true
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
    su postgres -c "psql -q -h 127.0.0.1 -c \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='satwatch') THEN CREATE ROLE satwatch LOGIN SUPERUSER PASSWORD 'satwatch'; END IF; END\\\$\\\$;\"" 2>/dev/null \
      || su postgres -c "psql -q -c \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='satwatch') THEN CREATE ROLE satwatch LOGIN SUPERUSER PASSWORD 'satwatch'; END IF; END\\\$\\\$;\""
    export SATWATCH_TEST_PG_URL="postgresql+psycopg://satwatch:satwatch@127.0.0.1:5432/postgres"
  fi
fi

python3 -m pytest -n 2 -q "$@"
