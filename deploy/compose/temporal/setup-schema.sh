#!/bin/sh
# One-shot job for docker-compose.yml (service `temporal-schema`, image temporalio/admin-tools):
# creates Temporal's two PostgreSQL databases if missing and brings their schemas up to the version
# shipped with this admin-tools image. The server starts only after this exits 0.
#
# This is what the deprecated temporalio/auto-setup image did on every start; keeping it a separate
# job means the server container never needs DDL rights at run time and an upgrade is explicit:
# bump TEMPORAL_VERSION (server and admin-tools together) and `docker compose up` runs the
# versioned migrations first. Every command is idempotent (create tolerates an existing database,
# setup-schema -v 0.0 never downgrades, update-schema applies only newer versions).
#
# Environment (set by docker-compose.yml): POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER,
# SQL_PASSWORD (read by temporal-sql-tool itself, so it never shows in `ps`), SCHEMA_MAX_ATTEMPTS,
# SCHEMA_RETRY_SECONDS.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (database host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
port=${DB_PORT:-5432}
attempts=${SCHEMA_MAX_ATTEMPTS:-30}
delay=${SCHEMA_RETRY_SECONDS:-2}
schema_root=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

log() { echo "temporal-schema: $*"; }

sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"; }

# depends_on waits for PostgreSQL's healthcheck; this also covers a database on another host.
if command -v nc >/dev/null 2>&1; then
  attempt=1
  until nc -z "$POSTGRES_SEEDS" "$port" 2>/dev/null; do
    if [ "$attempt" -ge "$attempts" ]; then
      log "error: PostgreSQL at $POSTGRES_SEEDS:$port is not reachable after $attempts attempts" >&2
      exit 1
    fi
    log "waiting for PostgreSQL at $POSTGRES_SEEDS:$port ($attempt/$attempts)"
    attempt=$((attempt + 1))
    sleep "$delay"
  done
fi

# The database names are the server's defaults (DBNAME / VISIBILITY_DBNAME unset in the compose file).
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=$schema_root/${pair#*:}/versioned
  log "database $db: create if missing, schema from $dir"
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$dir"
done

log "schemas are up to date"
