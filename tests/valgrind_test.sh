#!/usr/bin/env bash
# Runs the CLI's commands under valgrind (init, normalize, train, predict, model, inspect; successes and failures)
# and fails on any memory error or definite leak outside what tests/valgrind.supp attributes to PoCL and glibc.
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

# valgrind presents an AVX-512 CPU as one with AVX2 only, so under it PoCL looks for its kernels under the avx2
# variant's key and, missing them, compiles them with LLVM running under valgrind (over a minute per program).
# Each command therefore runs natively first with PoCL told that variant (POCL_KERNELLIB_NAME), which fills the
# same cache entries in seconds; elsewhere this only repeats the command.
warm=false
[ -z "$device" ] && grep -qw avx2 /proc/cpuinfo && warm=true
succeeds() {
    if $warm; then POCL_KERNELLIB_NAME=avx2 "$cli" "$@" "${device_args[@]}" >/dev/null; fi
    "${check[@]}" "$cli" "$@" "${device_args[@]}"
}
fails_with() {
    local expected=$1 status=0
    shift
    "${check[@]}" "$cli" "$@" "${device_args[@]}" || status=$?
    if [ "$status" -ne "$expected" ]; then
        echo "oclinit $1 should fail with $expected (its own error), not $status (99: valgrind found errors)"
        exit 1
    fi
}
fails() {
    fails_with 1 "$@"
}

succeeds init --scheme trunc-normal --fan-in 1000 --fan-out 50 --stats --chunk-mib 1 --output "$work/w.npy"
fails init --scheme trunc-normal --fan-in 1000 --fan-out 50 --output "$work/missing/w.npy"

printf 'a;b;"the label"\n1;2;x\n3;5;"y; z"\n4;4;x\n' > "$work/train.csv"
succeeds normalize --method minmax --label "the label" --input "$work/train.csv" --output "$work/out.csv" \
    --save-stats "$work/stats.txt"
succeeds normalize --stats "$work/stats.txt" --input "$work/train.csv" --output "$work/out.csv"
printf 'a,b\n1,2\n3,oops\n' > "$work/bad.csv"
fails normalize --method zscore --input "$work/bad.csv" --output "$work/out.csv"

# The network, through CLBlast on a device.
succeeds train --data circles --iterations 20 --optimizer adam --save "$work/model.bin" --quiet
succeeds predict --model "$work/model.bin" --data circles --output "$work/p.csv"
fails predict --model "$work/bad.csv" --data circles --output "$work/p.csv"

# A whole checkpoint in several shards (the writer's thread and slots, on a device straight into them), read back;
# --force because the native warm-up may have written it already; without it the directory is refused.
cat > "$work/config.json" <<'JSON'
{"model_type": "llama", "vocab_size": 96, "hidden_size": 64, "intermediate_size": 88, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}
JSON
succeeds model --config "$work/config.json" --output "$work/ckpt" --max-shard-size 40000 --chunk-mib 1 --force --quiet
if [ "$device" = cpu ]; then # inspect runs on the host whatever the device: once is enough
    "${check[@]}" "$cli" inspect "$work/ckpt" >/dev/null
fi
fails_with 2 model --config "$work/config.json" --output "$work/ckpt" --quiet
