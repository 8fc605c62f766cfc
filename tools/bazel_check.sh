#!/usr/bin/env bash
# Bazel and buildifier checks (CI step; docs/development.md, "Bazel"). Installs Debian's
# bazel-bootstrap and the npm buildifier if missing, checks BUILD formatting
# and lint, runs `bazel test //...` with the project's venv first on PATH, and
# prints a "bazel: N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-$PWD/.venv}"
tools="$PWD/.ci-tools"

if ! command -v bazel >/dev/null || [ ! -d /usr/share/bazel/rules/java ]; then
  apt-get update -qq && apt-get install -y -qq bazel-bootstrap bazel-rules-java \
    >/dev/null || { echo "bazel: could not install bazel-bootstrap"; exit 1; }
fi
if [ ! -x "$tools/node_modules/.bin/buildifier" ]; then
  npm install --silent --no-save --prefix "$tools" @bazel/buildifier@8.2.1 \
    >/dev/null || { echo "buildifier: npm install failed"; exit 1; }
fi

# Format check everywhere; lint on the project's own files (the stand-ins in
# tools/bazel must call the native rules that lint asks to avoid).
stand_ins=($(find tools/bazel -name BUILD -o -name '*.bzl' -o -name WORKSPACE))
buildifier="$tools/node_modules/.bin/buildifier"
if ! "$buildifier" -mode=check -lint=warn BUILD WORKSPACE ||
   ! "$buildifier" -mode=check "${stand_ins[@]}"; then
  echo "buildifier: formatting or lint errors (see above)"
  exit 1
fi
build_files=(BUILD WORKSPACE "${stand_ins[@]}")
echo "buildifier: ${#build_files[@]} files clean"

log=$(mktemp)
# Tests tagged "slow" (the SIGKILL, bad-input and multi-run end-to-end
# tests) run under pytest only; Bazel still builds them. BAZEL_ALL=1 runs all.
filter="--test_tag_filters=-slow"
[ "${BAZEL_ALL:-0}" = 1 ] && filter=""
PATH="$venv/bin:$PATH" bazel test //... $filter --test_output=errors \
  --local_test_jobs=2 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
bazel shutdown >/dev/null 2>&1
passed=$(grep -cE '^//\S+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//\S+ +(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log")
echo "bazel: $passed passed, $failed failed"
rm -f "$log"
exit "$status"
