#!/bin/sh
# TRIAL ONLY: writes random secrets for the trial overlay into guard.env and hasura.env, next to this script
# (git-ignored; kustomization.yaml's secretGenerator reads them). Keeps files that exist: run it again safely.
set -eu
cd "$(dirname "$0")"
random() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

if [ ! -f hasura.env ] || [ ! -f guard.env ]; then
  password=$(random 16)
  umask 077
  [ -f hasura.env ] || printf '%s\n' \
    "POSTGRES_PASSWORD=$password" \
    "DATABASE_URL=postgres://postgres:$password@postgres:5432/postgres" \
    "HASURA_GRAPHQL_ADMIN_SECRET=$(random 16)" >hasura.env
  password=$(sed -n 's/^POSTGRES_PASSWORD=//p' hasura.env)
  [ -f guard.env ] || printf '%s\n' \
    "TOKEN_SECRET=$(random 48)" \
    "ACTION_SECRET=$(random 32)" \
    "GUARD_DATABASE_URL=postgres://postgres:$password@postgres:5432/postgres" >guard.env
fi
echo "guard.env and hasura.env are in $(pwd). The console's admin secret:"
sed -n 's/^HASURA_GRAPHQL_ADMIN_SECRET=//p' hasura.env
