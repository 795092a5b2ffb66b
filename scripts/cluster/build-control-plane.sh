#!/usr/bin/env bash
# Builds a real Kubernetes control plane for the cluster test suite from the Go module proxy:
# kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes), etcd and kwok (a
# fake kubelet that makes pods Ready), plus the Istio CRDs from the istio.io/api module.
# Everything is cached outside the checkout, by version, in $CONTROL_PLANE_CACHE
# (default ~/.cache/deploy-platform/control-plane): built once per machine (about 20 minutes cold
# on 2 cores), then found in a second. Prints the directory holding bin/ and crds/ on its last line.
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
ISTIO_API_VERSION=v1.32.0

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "control-plane: $*" >&2; }
# Building takes minutes: that is said even with --quiet, so nobody wonders whether it hangs.
progress() { echo "control-plane: $*" >&2; }
die() { echo "control-plane: error: $*" >&2; exit 1; }

command -v go >/dev/null || die "Go is required to build the test control plane (go install golang.org/dl or apt-get install golang)."
cache_root=${CONTROL_PLANE_CACHE:-$HOME/.cache/deploy-platform/control-plane}
dir="$cache_root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-istio-$ISTIO_API_VERSION"
bin="$dir/bin"
mkdir -p "$bin" "$dir/crds"
# One build at a time per cache: a second caller waits for the first instead of building twice.
exec 9>"$dir/.lock"
flock 9

export GOFLAGS=-mod=mod
export CGO_ENABLED=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

built() { [ -x "$bin/$1" ]; }

build_kubernetes() {
  local missing=()
  for b in kube-apiserver kube-controller-manager kube-scheduler; do built "$b" || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  progress "building ${missing[*]} $K8S_VERSION (first time only: about 13 minutes on 2 cores)"
  local mod="$work/kubernetes" staging_version
  mkdir -p "$mod"
  # k8s.io/kubernetes points its staging modules at ./staging; a wrapper module replaces each with
  # the published module of the same release (v1.X.Y <=> v0.X.Y).
  staging_version="v0.${K8S_VERSION#v1.}"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$gomod" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
  {
    echo "module controlplane.local/kubernetes"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    grep -E '=> \./staging/' "$gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } > "$mod/go.mod"
  for b in "${missing[@]}"; do
    mkdir -p "$mod/cmd/$b"
    case "$b" in
      kube-apiserver) pkg=k8s.io/kubernetes/cmd/kube-apiserver/app; ctor=NewAPIServerCommand ;;
      kube-controller-manager) pkg=k8s.io/kubernetes/cmd/kube-controller-manager/app; ctor=NewControllerManagerCommand ;;
      kube-scheduler) pkg=k8s.io/kubernetes/cmd/kube-scheduler/app; ctor=NewSchedulerCommand ;;
    esac
    cat > "$mod/cmd/$b/main.go" <<GO
package main

import (
	"os"

	"k8s.io/component-base/cli"
	app "$pkg"
)

func main() { os.Exit(cli.Run(app.$ctor())) }
GO
  done
  (cd "$mod" && go mod tidy >/dev/null 2>&1 || go mod tidy)
  for b in "${missing[@]}"; do
    progress "go build $b"
    (cd "$mod" && go build -trimpath -ldflags="-s -w" -o "$bin/$b.tmp" "./cmd/$b") && mv "$bin/$b.tmp" "$bin/$b"
  done
}

build_etcd() {
  built etcd && return 0
  progress "building etcd $ETCD_VERSION (about 1 minute)"
  local mod="$work/etcd"
  mkdir -p "$mod"
  cat > "$mod/go.mod" <<GO
module controlplane.local/etcd

go 1.25

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GO
  cat > "$mod/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$mod" && go mod tidy >/dev/null 2>&1 || go mod tidy)
  (cd "$mod" && go build -trimpath -ldflags="-s -w" -o "$bin/etcd.tmp" .) && mv "$bin/etcd.tmp" "$bin/etcd"
}

build_kwok() {
  built kwok && return 0
  progress "building kwok $KWOK_VERSION (about 6 minutes)"
  GOBIN="$work/kwok-bin" go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" \
    || die "could not build kwok with go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv "$work/kwok-bin/kwok" "$bin/kwok"
}

# kwok has no stages of its own: its module ships the "fast" ones (nodes Ready at once with a
# heartbeat, pods Running and Ready as soon as they are scheduled), joined into one config file.
kwok_stages() {
  [ -s "$dir/kwok-stages.yaml" ] && return 0
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -d "$src/kustomize/stage" ] || die "sigs.k8s.io/kwok@$KWOK_VERSION has no kustomize/stage directory"
  local out="$dir/kwok-stages.yaml.tmp" first=1 file
  : > "$out"
  for file in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$src/kustomize/stage/$file" ] || die "kwok stage $file is missing from sigs.k8s.io/kwok@$KWOK_VERSION"
    [ "$first" = 1 ] || echo "---" >> "$out"
    cat "$src/kustomize/stage/$file" >> "$out"
    first=0
  done
  mv "$out" "$dir/kwok-stages.yaml"
}

fetch_istio_crds() {
  [ -s "$dir/crds/istio.yaml" ] && return 0
  progress "downloading the Istio CRDs from istio.io/api@$ISTIO_API_VERSION"
  local src
  src=$(go mod download -json "istio.io/api@$ISTIO_API_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$src/kubernetes/customresourcedefinitions.gen.yaml" ] || die "istio.io/api@$ISTIO_API_VERSION has no kubernetes/customresourcedefinitions.gen.yaml"
  cp "$src/kubernetes/customresourcedefinitions.gen.yaml" "$dir/crds/istio.yaml.tmp"
  chmod 644 "$dir/crds/istio.yaml.tmp"
  mv "$dir/crds/istio.yaml.tmp" "$dir/crds/istio.yaml"
}

started=$(date +%s)
fetch_istio_crds
build_etcd
build_kubernetes
build_kwok
kwok_stages
say "ready in $(( $(date +%s) - started )) s: $dir"
echo "$dir"
