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
expect 2 'needs exactly two numbers LO,HI, got "0,1,2"' normalize --input data.csv --output n.csv --method minmax \
    --range 0,1,2
expect 2 "too large: a layer has at most 16777216 units" train --data circles --hidden 99999999999,99999999999 \
    --save new.bin
expect 2 "too large: a layer has at most 16777216 units" train --data circles --hidden 5,16777217 --save new.bin
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
# A misspelt built-in set is neither a file nor a set: said so, never "needs --label".
expect 1 "circel: no such file, and not a built-in data set (circles, moons, spirals)" train --data circel \
    --save new.bin
expect 1 "no such file, and not a built-in data set" predict --model model.bin --data mons --output p.csv
# init writes .npy: a .csv name would hold .npy bytes.
expect 2 "init writes a .npy file (numpy.load reads it), not CSV; name it r1.npy" init --scheme normal --shape 4,4 \
    --output r1.csv
expect 2 "--noise must be >= 0" train --data circles --noise -1 --save new.bin
expect 2 "too small" train --data circles --lr 1e-400 --save new.bin
expect 2 "--samples must be >= 2" predict --model model.bin --data circles --samples 1 --output p.csv
expect 2 "needs a whole number" experiment --iterations 99999999999999999999
expect 2 "--iterations must be >= 1" experiment --iterations 0
expect 2 "needs a finite number" tune --budget x
expect 2 "--budget must be from 1 to 604800 seconds" tune --budget 0.001
expect 2 "--budget must be from 1 to 604800 seconds" tune --budget 99999999999999999999
expect 2 "--repeat must be >= 1" bench --repeat 0
expect 2 "--repeat must be from 1 to 1000, got 2147483648" bench --repeat 2147483648
expect 2 'an empty name "" in "init,,npy"' bench --only init,,npy
# bench's outputs are checked before its run: a plot directory that cannot be made, or that is also the CSV.
expect 1 "--plot: cannot create nodir/sub: nodir:" bench --only normalize --plot nodir/sub --csv bench.csv
[[ ! -e bench.csv ]] || fail "bench wrote its CSV though its --plot directory could not be made"
expect 2 "are the same file" bench --only normalize --csv same --plot same
[[ ! -e same ]] || fail "bench made a --plot directory that is also its --csv"

# oclinit model: a config's torch_dtype that oclinit does not write matters only without --dtype; shard sizes beyond
# 64 bits are refused; a spec's rule that matches no tensor is a warning (not one whose names an earlier rule took);
# --help names the columns --list prints.
echo '{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_hidden_layers":2,
"vocab_size":1000,"torch_dtype":"float64"}' >f64.json
echo '{"tensors":[{"name":"a.weight","shape":[8,4]}],"rules":[{"match":"b.*","scheme":"zeros"},
{"match":"a.*","scheme":"normal"},{"match":"*.weight","scheme":"ones"}],"default":{"scheme":"normal"}}' >rules.json
expect 2 "f64.json: the config's dtype is F64, which oclinit does not write; give --dtype" model --config f64.json \
    --list
expect 0 "" model --config f64.json --list --dtype bf16
expect 2 '"18446744073709551616" is more than 2^64 - 1 bytes' model --spec rules.json --list \
    --max-shard-size 18446744073709551616
expect 2 '"18446744073709551615GB" is more than 2^64 - 1 bytes' model --spec rules.json --list \
    --max-shard-size 18446744073709551615GB
expect 0 'warning: rules.json: rules[0].match: "b.*" matches no tensor' model --spec rules.json --list
warnings=$("$cli" model --spec rules.json --list 2>&1 >/dev/null | grep -c 'warning: ')
[[ $warnings == 1 ]] || fail "oclinit model --spec rules.json warned $warnings times, expected once (rules[0])"
columns=$("$cli" model --spec rules.json --list 2>/dev/null | sed -n 2p | sed 's/\t/, /g')
[[ "$("$cli" model --help | tr -s ' \n' ' ')" == *"--list print the tensors ($columns)"* ]] ||
    fail "oclinit model --help does not name the columns --list prints: $columns"
rm -f f64.json rules.json

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
