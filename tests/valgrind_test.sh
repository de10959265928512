#!/usr/bin/env bash
# Runs `oclinit init` and `oclinit normalize` under valgrind and fails on any memory error or definite leak
# outside what tests/valgrind.supp attributes to PoCL and glibc; for successful runs and for failing ones.
#   tests/valgrind_test.sh CLI DEVICE      (DEVICE: cpu for the host C path, "" for the default device)
set -euo pipefail
cli=$1
device=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(init --scheme trunc-normal --fan-in 1000 --fan-out 50 --stats --chunk-mib 1)
[ -n "$device" ] && args+=(--device "$device")
check=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
       --num-callers=40 --suppressions="$here/valgrind.supp")

# A run outside valgrind first, so PoCL compiles and caches the kernels at full speed.
"$cli" "${args[@]}" --output "$work/w.npy" >/dev/null
"${check[@]}" "$cli" "${args[@]}" --output "$work/w.npy"

expect_failure() {
    local status=0
    "${check[@]}" "$@" || status=$?
    if [ "$status" -ne 1 ]; then
        echo "the failing run should exit 1 (its error), not $status (99: valgrind found errors)"
        exit 1
    fi
}
expect_failure "$cli" "${args[@]}" --output "$work/missing/w.npy"

# Normalization: fit and save, apply the saved statistics, and a file with a bad cell.
printf 'a;b;"the label"\n1;2;x\n3;5;"y; z"\n4;4;x\n' > "$work/train.csv"
device_args=()
[ -n "$device" ] && device_args=(--device "$device")
"$cli" normalize --method zscore --label "the label" --input "$work/train.csv" --output "$work/out.csv" "${device_args[@]}" >/dev/null
"${check[@]}" "$cli" normalize --method minmax --label "the label" --input "$work/train.csv" --output "$work/out.csv" \
    --save-stats "$work/stats.txt" "${device_args[@]}"
"${check[@]}" "$cli" normalize --stats "$work/stats.txt" --input "$work/train.csv" --output "$work/out.csv" "${device_args[@]}"
printf 'a,b\n1,2\n3,oops\n' > "$work/bad.csv"
expect_failure "$cli" normalize --method zscore --input "$work/bad.csv" --output "$work/out.csv" "${device_args[@]}"
