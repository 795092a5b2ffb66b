#!/bin/sh
# One-shot init job for docker-compose.yml (service `temporal-init`, image temporalio/admin-tools):
# waits until the Temporal frontend serves, creates the namespace if it is missing, registers the
# platform's custom search attributes and checks that every one of them exists with the right type.
# The worker and the API start only after this exits 0 (depends_on: service_completed_successfully).
#
#   usage: init-namespace.sh Name=Type [Name=Type ...]     e.g. DeployProject=Keyword
#
# Safe to run again on every `docker compose up`: an existing namespace or attribute of the same
# type is left alone. An attribute that exists with a DIFFERENT type fails the job (and so blocks
# the worker), because silently indexing under the wrong type would break the operators' queries.
#
# Environment:
#   TEMPORAL_ADDRESS              host:port of the frontend (required)
#   TEMPORAL_NAMESPACE            namespace to prepare (default: default)
#   TEMPORAL_NAMESPACE_RETENTION  retention of closed runs when the namespace is created (default: 30d)
#   INIT_MAX_ATTEMPTS             attempts for each step before giving up (default: 60)
#   INIT_RETRY_SECONDS            pause between attempts (default: 5)
#   TEMPORAL_CLI                  the Temporal CLI binary (default: temporal; the tests point it elsewhere)
#
# POSIX sh only: the admin-tools image has no bash guarantee.
set -eu

cli=${TEMPORAL_CLI:-temporal}
address=${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required (host:port of the Temporal frontend)}
namespace=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_NAMESPACE_RETENTION:-30d}
attempts=${INIT_MAX_ATTEMPTS:-60}
delay=${INIT_RETRY_SECONDS:-5}

log() { echo "temporal-init: $*"; }
fail() {
  echo "temporal-init: error: $*" >&2
  exit 1
}
temporal() { "$cli" "$@" --address "$address"; }

[ "$#" -gt 0 ] || fail "usage: $0 Name=Type [Name=Type ...]"
for pair in "$@"; do
  name=${pair%%=*}
  type=${pair#*=}
  case $name in '' | [!A-Za-z]* | *[!A-Za-z0-9_]*) fail "bad search attribute name in '$pair'" ;; esac
  case $type in Keyword | Text | Int | Double | Bool | Datetime | KeywordList) ;; *) fail "bad type in '$pair' (Keyword, Text, Int, Double, Bool, Datetime or KeywordList)" ;; esac
done

# 1. The frontend answers SERVING (the server container may still be joining its ring).
attempt=1
while :; do
  if out=$(temporal operator cluster health 2>&1) && echo "$out" | grep -q SERVING; then break; fi
  [ "$attempt" -lt "$attempts" ] || fail "Temporal at $address is not serving after $attempts attempts: $out"
  log "waiting for Temporal at $address ($attempt/$attempts)"
  attempt=$((attempt + 1))
  sleep "$delay"
done
log "Temporal at $address is serving"

# 2. The namespace exists (created with the retention above the first time only).
attempt=1
while :; do
  if temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
    log "namespace '$namespace' is registered"
    break
  fi
  [ "$attempt" -le "$attempts" ] || fail "namespace '$namespace' is still not usable after $attempts attempts: ${out:-}"
  if out=$(temporal operator namespace create --namespace "$namespace" --retention "$retention" \
    --description "Deploy platform (created by docker-compose temporal-init)" 2>&1); then
    log "namespace '$namespace' created (retention $retention)"
  elif echo "$out" | grep -qi 'already exists'; then
    log "namespace '$namespace' already exists; waiting until it can be described"
  else
    log "cannot create namespace '$namespace' yet ($attempt/$attempts): $out"
  fi
  attempt=$((attempt + 1))
  sleep "$delay"
done

# The registered type of a search attribute in the namespace ('' when it is not registered).
registered_type() {
  temporal operator search-attribute list --namespace "$namespace" 2>/dev/null |
    awk -v name="$1" '$1 == name { print $2; exit }'
}

# 3. Every custom search attribute exists with its type.
for pair in "$@"; do
  name=${pair%%=*}
  type=${pair#*=}
  attempt=1
  while :; do
    current=$(registered_type "$name" || true)
    if [ "$current" = "$type" ]; then
      log "search attribute $name ($type) is registered"
      break
    fi
    if [ -n "$current" ]; then
      fail "search attribute $name already exists in namespace '$namespace' with type $current, not $type; fix it by hand (temporal operator search-attribute remove/create) and run again"
    fi
    [ "$attempt" -le "$attempts" ] || fail "search attribute $name is still not registered after $attempts attempts: ${out:-}"
    if out=$(temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "$type" 2>&1); then
      log "search attribute $name ($type) created"
      if [ "$(registered_type "$name" || true)" = "$type" ]; then
        log "search attribute $name ($type) is registered"
        break
      fi
      sleep 1 # not listed yet: check again in a moment
    elif echo "$out" | grep -qi 'different type'; then
      fail "search attribute $name exists with another type: $out"
    elif echo "$out" | grep -qi 'already exists'; then
      log "search attribute $name already exists; checking its type"
      sleep 1
    else
      log "cannot create $name yet ($attempt/$attempts): $out"
      sleep "$delay"
    fi
    attempt=$((attempt + 1))
    # Loop back: the attribute counts as registered only once the list shows it with its type.
  done
done

log "namespace '$namespace' is ready with $# custom search attributes"
