#!/usr/bin/env bash
# The CLI's tests on a build with AddressSanitizer and UndefinedBehaviorSanitizer (-DOCLINIT_SANITIZE=ON,
# RelWithDebInfo, in BUILD_DIR/sanitize): test_cli, the corpus of malformed files through every reader, and the
# CLI-level scripts, on the default device (PoCL in CI) and the host C path. Any sanitizer report, in any process,
# fails it; leaks are judged in oclinit's code only (tests/sanitize.supp names the libraries left out).
# tests/environments.sh is not among them: ASan reserves terabytes of address space, which ulimit -v cannot allow.
#   tests/sanitize_test.sh SOURCE_DIR BUILD_DIR C_COMPILER PYTHON
set -euo pipefail
src=$1
build=$2/sanitize
compiler=$3
python=$4

cmake -S "$src" -B "$build" -DOCLINIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$compiler" \
    >/dev/null
cmake --build "$build" -j"$(nproc)" --target oclinit_cli test_cli test_corpus >/dev/null
cli=$build/host/oclinit
for runtime in libasan libubsan; do
    # grep reads all of ldd's output: with -q it could stop early, and pipefail would report ldd's SIGPIPE.
    ldd "$cli" | grep "$runtime" > /dev/null || { echo "$cli does not link $runtime: not a sanitizer build"; exit 1; }
done

# Reports go to files, one per process, so that none is lost in a test's captured output; exit code 99 tells a
# sanitizer's exit from the CLI's own 1 and 2.
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=99:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=99:log_path=$reports/ubsan"
export LSAN_OPTIONS="suppressions=$src/tests/sanitize.supp:print_suppressions=0"

failed=()
check() {
    local name=$1 start=$SECONDS
    shift
    if "$@" >"$reports/output" 2>&1; then
        echo "passed: $name ($((SECONDS - start)) s)"
    else
        cat "$reports/output"
        echo "FAILED: $name"
        failed+=("$name")
    fi
    rm -f "$reports/output"
}
check test_cli bash -c "cd '$build/tests' && ./test_cli"
check corpus "$build/tests/test_corpus"
check cli_arguments bash "$src/tests/cli_arguments.sh" "$cli"
check output_policy bash "$src/tests/test_output_policy.sh" "$cli"
check readme_contract "$python" "$src/tests/readme_contract.py" "$src/README.md" "$cli"
check sklearn_equivalence "$python" "$src/tests/sklearn_equivalence.py" "$cli"

for report in "$reports"/*; do
    [ -e "$report" ] || continue
    echo "== sanitizer report $report"
    cat "$report"
    failed+=("$(basename "$report")")
done
[ ${#failed[@]} -eq 0 ] || { echo "sanitizer test failed: ${failed[*]}"; exit 1; }
echo "no sanitizer report"
