#!/bin/bash
# Runs once, when the primary's data directory is first initialised (the postgres image runs
# /docker-entrypoint-initdb.d/* then): a role the replica streams WAL as, and a pg_hba line
# that lets it connect for replication. An existing volume is not changed: add both by hand
# there (see README, "Running in production").
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD:-replicator}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
