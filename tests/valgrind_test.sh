#!/usr/bin/env bash
# Runs the CLI's commands under valgrind (init, normalize, train, predict; successes and failures) and fails
# on any memory error or definite leak outside what tests/valgrind.supp attributes to PoCL and glibc.
#   tests/valgrind_test.sh CLI DEVICE      (DEVICE: cpu for the host C path, "" for the default device)
set -euo pipefail
cli=$1
device=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
device_args=()
[ -n "$device" ] && device_args=(--device "$device")
check=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
       --num-callers=40 --suppressions="$here/valgrind.supp")

# Under valgrind PoCL compiles its kernels for the CPU valgrind presents (without AVX-512), once per cache:
# about 2 minutes for the init and normalize kernels on these machines.
succeeds() {
    "${check[@]}" "$cli" "$@" "${device_args[@]}"
}
fails() {
    local status=0
    "${check[@]}" "$cli" "$@" "${device_args[@]}" || status=$?
    if [ "$status" -ne 1 ]; then
        echo "oclinit $1 should fail with 1 (its own error), not $status (99: valgrind found errors)"
        exit 1
    fi
}

succeeds init --scheme trunc-normal --fan-in 1000 --fan-out 50 --stats --chunk-mib 1 --output "$work/w.npy"
fails init --scheme trunc-normal --fan-in 1000 --fan-out 50 --output "$work/missing/w.npy"

printf 'a;b;"the label"\n1;2;x\n3;5;"y; z"\n4;4;x\n' > "$work/train.csv"
succeeds normalize --method minmax --label "the label" --input "$work/train.csv" --output "$work/out.csv" \
    --save-stats "$work/stats.txt"
succeeds normalize --stats "$work/stats.txt" --input "$work/train.csv" --output "$work/out.csv"
printf 'a,b\n1,2\n3,oops\n' > "$work/bad.csv"
fails normalize --method zscore --input "$work/bad.csv" --output "$work/out.csv"

# The network on the host path only: valgrind hides AVX-512, so under it PoCL compiles for another CPU and
# misses its cache, and compiling CLBlast's GEMM kernels under valgrind takes many minutes.
# The device path was checked by hand with a warm cache (README.md, "Tests").
if [ "$device" = cpu ]; then
    succeeds train --data circles --iterations 20 --optimizer adam --save "$work/model.bin" --quiet
    succeeds predict --model "$work/model.bin" --data circles --output "$work/p.csv"
    fails predict --model "$work/bad.csv" --data circles --output "$work/p.csv"
fi
