#!/usr/bin/env bash
# `mpirun -np N oclinit train`: the model file (the network and the normalization statistics in it) is byte for byte
# that of one process without mpirun, for N = 1..4, gd and adam on mini-batches, on the host C path, and for N = 2
# on the default device, while each rank holds only its rows (whole blocks of 1024) of a CSV or .npy file; a rank that cannot read its data or open its device, or is interrupted in the middle of
# training, fails every rank with that rank's message and leaves no model; ranks whose command lines differ are
# refused.
#   tests/mpi_train_test.sh path/to/oclinit
cli=$1
source "$(dirname "$0")/mpi_common.sh"

# 2500 rows: three chunks of the normalization's fit (1024 rows each), so the ranks fit different chunks. Batches of
# 700 rows are cut into 5 micro-batches (the last batch of an epoch, 400 rows, too): 5 leaves over 2, 3 and 4 ranks.
data=(--data moons --samples 2500 --noise 0.2 --hidden 12,6 --seed 3 --quiet)
runs=("gd --micro-batches 6 --iterations 40 --lr 0.3" "adam --batch 700 --micro-batches 5 --iterations 30"
      "momentum --batch 512 --iterations 20")
for k in "${!runs[@]}"; do
    read -r -a opts <<< "--optimizer ${runs[$k]}"
    "$cli" train "${data[@]}" "${opts[@]}" --device cpu --save "$tmp/plain$k.bin" > /dev/null ||
        fail "plain run ${runs[$k]}"
    for n in 1 2 3 4; do
        "${mpi[@]}" -np $n "$cli" train "${data[@]}" "${opts[@]}" --device cpu --save "$tmp/np$n-$k.bin" \
            > "$tmp/out" 2> "$tmp/err" || { fail "-np $n ${runs[$k]}: $(cat "$tmp/err")"; continue; }
        cmp -s "$tmp/plain$k.bin" "$tmp/np$n-$k.bin" || fail "-np $n ${runs[$k]}: the model differs from the plain run's"
    done
done
# Only rank 0 prints: one summary line.
[ "$(grep -c '^cost ' "$tmp/out")" = 1 ] || fail "-np 4 printed $(grep -c '^cost ' "$tmp/out") summaries"

# The default device (PoCL in CI): one rank per device, the plain run's bytes.
read -r -a opts <<< "--optimizer adam --batch 700 --micro-batches 5 --iterations 10"
if "$cli" train "${data[@]}" "${opts[@]}" --save "$tmp/device.bin" > /dev/null; then
    "${mpi[@]}" -np 2 "$cli" train "${data[@]}" "${opts[@]}" --save "$tmp/device2.bin" > /dev/null ||
        fail "-np 2 on the default device"
    cmp -s "$tmp/device.bin" "$tmp/device2.bin" || fail "-np 2 on the default device: the model differs"
else
    fail "plain run on the default device"
fi

# The same 2100 rows (three blocks of 1024 rows) as CSV and as .npy: each rank keeps only its blocks (a .npy's read
# alone), and the model is the plain run's.
awk 'BEGIN { print "a,b,y"; for (i = 1; i <= 2100; i++) printf "%d.5,%d.25,%d\n", i % 37, (i * 7) % 11, ((i % 37) > 18) }' \
    > "$tmp/rows.csv"
perl -e '$h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (2100, 3), }";
    $h .= " " x (63 - (10 + length($h)) % 64) . "\n"; print "\x93NUMPY\x01\x00", pack("v", length $h), $h;
    print pack("f<3", $_ % 37 + 0.5, $_ * 7 % 11 + 0.25, $_ % 37 > 18 ? 1 : 0) for 1 .. 2100' > "$tmp/rows.npy"
for format in csv npy; do
    label=$([ $format = csv ] && echo y || echo 3)
    read -r -a opts <<< "--data $tmp/rows.$format --label $label --optimizer adam --batch 600 --micro-batches 4
        --iterations 15 --device cpu --quiet"
    "$cli" train "${opts[@]}" --save "$tmp/rows.bin" > /dev/null || fail "plain run on rows.$format"
    OCLINIT_TEST_SHOW_ROWS=1 "${mpi[@]}" -np 3 "$cli" train "${opts[@]}" --save "$tmp/rows3.bin" > /dev/null \
        2> "$tmp/err" || fail "-np 3 on rows.$format: $(cat "$tmp/err")"
    cmp -s "$tmp/rows.bin" "$tmp/rows3.bin" || fail "-np 3 on rows.$format: the model differs from the plain run's"
    for share in "0 of 3 holds rows \[0, 1024)" "1 of 3 holds rows \[1024, 2048)" "2 of 3 holds rows \[2048, 2100)"; do
        grep -q "^rank $share" "$tmp/err" || fail "-np 3 on rows.$format: no \"rank $share\" in: $(cat "$tmp/err")"
    done
done

# A file every rank reads, to make one rank fail on it.
{
    echo "a,b,y"
    for i in $(seq 1 300); do echo "$((i % 17)).5,$((i % 5)).25,$((i % 2))"; done
} > "$tmp/d.csv"
file=(--data "$tmp/d.csv" --label y --device cpu --iterations 5 --quiet)

refused() { # $1 what, $2 expected exit code, $3 expected message, then the mpirun arguments
    local what=$1 code=$2 message=$3
    shift 3
    "${mpi[@]}" "$@" > "$tmp/out" 2> "$tmp/err"
    local got=$?
    [ $got = "$code" ] || fail "$what: exit $got, expected $code"
    grep -q -- "$message" "$tmp/err" || fail "$what: no \"$message\" in: $(head -c 600 "$tmp/err")"
    ls "$tmp"/f.bin* > /dev/null 2>&1 && fail "$what: left $(ls "$tmp"/f.bin*)"
    rm -f "$tmp"/f.bin*
}
OCLINIT_TEST_FAIL_RANK=2 refused "rank 2 cannot read" 1 "rank 2 of 3: .*d.csv: not read, failing on purpose" \
    -np 3 "$cli" train "${file[@]}" --save "$tmp/f.bin"
refused "rank 1 cannot open its device" 1 "rank 1 of 2: no device 7:7" \
    -np 1 "$cli" train --data "$tmp/d.csv" --label y --iterations 5 --quiet --save "$tmp/f.bin" : \
    -np 1 env OCLINIT_DEVICE=7:7 "$cli" train --data "$tmp/d.csv" --label y --iterations 5 --quiet --save "$tmp/f.bin"
refused "ranks with different options" 2 "the ranks disagree on the command line" \
    -np 1 "$cli" train "${file[@]}" --lr 0.1 --save "$tmp/f.bin" : -np 1 "$cli" train "${file[@]}" --lr 0.2 --save "$tmp/f.bin"

# Rank 1 alone interrupted while training: every rank stops at the next iteration's agreement, exit 130.
"${mpi[@]}" -np 2 "$cli" train --data moons --samples 3000 --optimizer adam --batch 512 --iterations 10000000 \
    --device cpu --quiet --save "$tmp/f.bin" > "$tmp/out" 2> "$tmp/err" &
job=$!
rank1=
for _ in $(seq 1 100); do
    for pid in $(pgrep -P "$job"); do
        tr '\0' '\n' < "/proc/$pid/environ" 2> /dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && rank1=$pid
    done
    [ -n "$rank1" ] && break
    sleep 0.1
done
# Into the training: once rank 1 has used a second of CPU time (setting up takes a fraction of that), so that a
# loaded machine does not interrupt it while it still sets up.
for _ in $(seq 1 300); do
    [ -n "$rank1" ] && [ "$(awk '{print $14}' "/proc/$rank1/stat" 2> /dev/null || echo 0)" -ge "$(getconf CLK_TCK)" ] && break
    sleep 0.1
done
[ -n "$rank1" ] && kill -INT "$rank1" || fail "rank 1 of the interrupted job not found"
wait "$job"
got=$?
[ $got = 130 ] || fail "rank 1 interrupted: exit $got, expected 130"
grep -q "rank 1 of 2: training was stopped at iteration" "$tmp/err" || fail "rank 1 interrupted: $(head -c 600 "$tmp/err")"
ls "$tmp"/f.bin* > /dev/null 2>&1 && fail "rank 1 interrupted: left $(ls "$tmp"/f.bin*)"

[ $failures = 0 ] && echo "mpi train: all passed"
exit $((failures > 0))
