#!/usr/bin/env bash
# Runs `oclinit init` under valgrind and fails on any memory error or definite leak outside what
# tests/valgrind.supp attributes to PoCL and glibc; once for a successful run, once for a failing one.
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

status=0
"${check[@]}" "$cli" "${args[@]}" --output "$work/missing/w.npy" || status=$?
if [ "$status" -ne 1 ]; then
    echo "the failing run should exit 1 (its error), not $status (99: valgrind found errors)"
    exit 1
fi
