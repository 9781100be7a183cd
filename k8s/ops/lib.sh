#!/usr/bin/env bash
# Shared by the operations scripts: messages, tool checks, cluster reachability.
# shellcheck disable=SC2034 # variables used by the scripts that source this file

NAMESPACE="${OSFRIA_NAMESPACE:-osfria-ai}"
KUBECTL="${KUBECTL:-kubectl}"

say() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }

# Fails with the name of every missing tool, before anything is done.
require_tools() {
  local missing=()
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    die "missing tools: ${missing[*]}"
  fi
}

require_cluster() {
  "$KUBECTL" --request-timeout=10s get namespace "$NAMESPACE" >/dev/null 2>&1 \
    || die "the cluster is unreachable or has no namespace '$NAMESPACE' (kubectl context: $("$KUBECTL" config current-context 2>/dev/null || echo none))"
}

kc() { "$KUBECTL" -n "$NAMESPACE" "$@"; }

postgres_primary() {
  local pod
  pod=$(kc get pod -l cnpg.io/cluster=osfria-pg,cnpg.io/instanceRole=primary -o name | head -n 1)
  [ -n "$pod" ] || die "no PostgreSQL primary pod (label cnpg.io/cluster=osfria-pg, cnpg.io/instanceRole=primary)"
  printf '%s\n' "${pod#pod/}"
}

DATABASES=(ingest webhook)

# The backups' encryption of ConfigMaps and Secrets (ops/backup, ops/restore): AES-256-CBC with a key derived by
# PBKDF2 (200,000 iterations, random salt) from the first line of $PASSPHRASE_FILE (set by the calling script);
# stdin to stdout.
# shellcheck disable=SC2154
encrypt() { openssl enc -aes-256-cbc -pbkdf2 -iter 200000 -salt -pass "file:$PASSPHRASE_FILE"; }
# shellcheck disable=SC2154
decrypt() { openssl enc -d -aes-256-cbc -pbkdf2 -iter 200000 -pass "file:$PASSPHRASE_FILE"; }
