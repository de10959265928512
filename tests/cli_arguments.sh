#!/usr/bin/env bash
# The command line's arguments, as a user gets them wrong: sizes too large for memory are a clear "too large" and
# never a crash, device indices are quoted as given (never wrapped), values out of float32's range are quoted as
# typed, ambiguous option prefixes list what they could mean, and every usage error exits 2 leaving no file.
# Usage: cli_arguments.sh path/to/oclinit
set -u
cli=$(realpath "$1")
dir=$(mktemp -d /tmp/oclinit-test-arguments-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect CODES TEXT ARGS...: the exit code is one of CODES (e.g. "1 2"), stderr holds TEXT, and no file appears.
expect() {
    local codes=$1 text=$2
    shift 2
    local before
    before=$(ls -A | sort)
    "$cli" "$@" >out.txt 2>err.txt
    local code=$?
    local shown
    shown=$(head -c 400 err.txt)
    rm -f out.txt err.txt
    if [[ " $codes " != *" $code "* ]]; then
        fail "oclinit $*: exit $code, expected $codes (stderr: $shown)"
    elif [[ "$shown" != *"$text"* ]]; then
        fail "oclinit $*: stderr lacks \"$text\": $shown"
    elif [[ "$(ls -A | sort)" != "$before" ]]; then
        fail "oclinit $*: left files: $(ls -A | tr '\n' ' ')"
    fi
}

printf 'a,b,y\n1,2,0\n3,4,1\n5,6,0\n' >data.csv
"$cli" train --data circles --samples 40 --iterations 2 --device cpu --quiet --save model.bin >/dev/null ||
    fail "training the model predict needs"

# Sizes: 2^62 samples of 2 floats overflow a size_t; 10^12 samples fit one but not memory.
expect "1 2" "too large" train --data circles --samples 4611686018427387904 --device cpu --save new.bin
expect "1 2" "too large" predict --model model.bin --data circles --samples 4611686018427387904 --device cpu \
    --output p.csv
expect "1 2" "too large" train --data circles --samples 1000000000000 --device cpu --save new.bin
expect "1 2" "too large" predict --model model.bin --data circles --samples 1000000000000 --device cpu --output p.csv
expect "2" "too large" init --scheme normal --fan-in 3 --fan-out 3 --output w.npy --chunk-mib 99999999999999999
# A normal whose samples would round to infinity is refused, not written with infinities.
expect "2" "beyond float32's range" init --scheme normal --mean 3e38 --std 3e38 --fan-in 4 --fan-out 4 --output w.npy
expect "2" "beyond float32's range" init --scheme scaled-normal --scale 1e38 --fan-in 4 --fan-out 4 --output w.npy

# Device indices as given, with the exit code of any other missing device.
"$cli" init --scheme normal --fan-in 3 --fan-out 3 --output w.npy --device 9:9 >/dev/null 2>&1
missing=$?
[[ $missing == 1 || $missing == 2 ]] || fail "--device 9:9 exits $missing"
rm -f w.npy
for device in -1:0 4294967296:0 0:-1 0:18446744073709551617 +0:-0; do
    expect "$missing" "no device $device;" init --scheme normal --fan-in 3 --fan-out 3 --output w.npy --device "$device"
done

# Values quoted as typed.
expect 2 '"1e39"' init --scheme normal --std 1e39 --fan-in 3 --fan-out 3 --output w.npy
expect 2 '--mean must be a float32 number' init --scheme normal --mean 1e39 --fan-in 3 --fan-out 3 --output w.npy
expect 2 '"-1e39"' train --data circles --init normal --mean -1e39 --save new.bin
expect 2 '"1e-50"' init --scheme trunc-normal --std 1e-50 --fan-in 3 --fan-out 3 --output w.npy
expect 2 '--range must be a float32 number (magnitude at most 3.40282e+38), got "1e39"' normalize --input data.csv --output n.csv --method minmax --range 0,1e39
expect 2 '"2,1"' normalize --input data.csv --output n.csv --method minmax --range 2,1
expect 2 '"1e39"' predict --model model.bin --data circles --noise 1e39 --output p.csv

# Ambiguous prefixes name every option they could mean.
expect 2 "ambiguous option --s: could be --scheme, --shape, --seed, --stream, --stats, --std, --scale, --sparsity" init --s 1
expect 2 "ambiguous option --fan: could be --fan-in, --fan-out" init --scheme normal --fan 3 --output w.npy
expect 2 "ambiguous option --d: could be --data, --diagnose-every, --device, --distribution" train --d circles
expect 2 "ambiguous option --s: could be --separator, --samples, --seed" predict --s=3
expect 2 "--stats takes no value" init --stats=yes
expect 2 "unknown option --nope" normalize --nope

# A sample of usage errors in every command: exit 2.
expect 2 "unknown argument" devices extra
expect 2 "unexpected argument" init --scheme normal --fan-in 3 --fan-out 3 --output w.npy extra
expect 2 "needs a value" init --scheme normal --fan-in
expect 2 "needs a whole number" init --scheme normal --fan-in 3x --fan-out 3 --output w.npy
expect 2 "does not apply" init --scheme normal --gain 2 --fan-in 3 --fan-out 3 --output w.npy
expect 2 "unknown method" normalize --input data.csv --output n.csv --method medium
expect 2 "needs --label" train --data data.csv --save new.bin
expect 2 "--noise must be >= 0" train --data circles --noise -1 --save new.bin
expect 2 "too small" train --data circles --lr 1e-400 --save new.bin
expect 2 "--samples must be >= 2" predict --model model.bin --data circles --samples 1 --output p.csv
expect 2 "needs a whole number" experiment --iterations 99999999999999999999
expect 2 "--iterations must be >= 1" experiment --iterations 0
expect 2 "needs a finite number" tune --budget x
expect 2 "--repeat must be >= 1" bench --repeat 0

# A FIFO where a file is read (an input, the CLBlast cache file) is refused or ignored at once: opening it for
# reading would wait for a writer forever.
mkfifo fifo.csv
expect 1 "not a regular file" normalize --method zscore --input fifo.csv --output out.csv --device cpu
mkdir cache
# tune names the device's cache file, whether or not it saved one.
cache_file=$(OCLINIT_CACHE_DIR=$PWD/cache timeout 120 "$cli" tune --budget 1 --quiet 2>/dev/null |
    grep -o "$PWD/cache/clblast-[^ ]*\.txt" | head -n 1)
if [[ -z "$cache_file" ]]; then
    fail "oclinit tune did not name the device's CLBlast cache file"
else
    rm -f "$cache_file" && mkfifo "$cache_file"
    OCLINIT_CACHE_DIR=$PWD/cache timeout 60 "$cli" train --data circles --iterations 2 --quiet --save fifo.bin \
        >/dev/null 2>err.txt
    code=$?
    [[ $code == 0 && "$(cat err.txt)" == *"not a regular file"* ]] ||
        fail "a FIFO as the CLBlast cache file: exit $code ($(head -c 300 err.txt))"
    rm -f err.txt fifo.bin
fi
rm -rf cache fifo.csv

if ((failures)); then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all argument checks passed"
