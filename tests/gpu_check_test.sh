#!/usr/bin/env bash
# bench/gpu-check.sh's logic on the default CI device (PoCL) in its quick form: every step passes and leaves its
# file, the device marked in devices.txt is the one asked for, every scheme and both normalizations are found
# identical, the device tests name the device, the bench wrote figures for it; an unknown device stops at once.
#   gpu_check_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1 build_dir=$2
out=$build_dir/tests/gpu-check
rm -rf "$out"
fail() { echo "gpu_check_test: $*" >&2; exit 1; }

bash "$source_dir/bench/gpu-check.sh" --device pocl --out "$out" --build "$build_dir" --no-build --quick ||
    fail "gpu-check.sh failed: $(cat "$out/summary.txt" 2>/dev/null)"
for f in summary.txt environment.txt devices.txt tests.log identity.txt tune.txt bench.txt bench.csv; do
    [ -s "$out/$f" ] || fail "no $f in $out"
done
for s in environment devices tests identity tune bench; do
    grep -q "^$s  *passed" "$out/summary.txt" || fail "step $s did not pass: $(cat "$out/summary.txt")"
done
grep -q '^\*.*' "$out/devices.txt" && grep -A1 '^\*' "$out/devices.txt" | grep -q "implementation: PoCL" ||
    fail "devices.txt does not mark the PoCL device as the one checked"
grep -q "device tests run on .*implementation PoCL" "$out/tests.log" || fail "tests.log names no PoCL device"
grep -q "DIFFERS\|FAILED\|refused" "$out/identity.txt" && fail "a mismatch: $(grep "DIFFERS\|FAILED\|refused" "$out/identity.txt")"
# Every scheme that `oclinit init --help` lists was compared, the conv-only ones included.
for scheme in zeros kaiming-normal trunc-normal variance-scaling orthogonal dirac; do
    grep -q "^$scheme\b.*: identical$" "$out/identity.txt" || fail "scheme $scheme not found identical"
done
[ "$(grep -c ': identical' "$out/identity.txt")" -ge 20 ] || fail "fewer than 20 comparisons in identity.txt"
grep -q "^normalize zscore .*: identical" "$out/identity.txt" && grep -q "^normalize minmax .*: identical" \
    "$out/identity.txt" || fail "normalization not found identical"
grep -q "^0 mismatches$" "$out/identity.txt" || fail "identity.txt does not end with 0 mismatches"
grep -q "^init-he-normal,device," "$out/bench.csv" || fail "bench.csv has no he-normal figure for the device"
grep -q "^normalize-fit,device," "$out/bench.csv" || fail "bench.csv has no normalize figure for the device"

# An unknown device: exit 1 at the devices step, saying so, without running the rest.
status=0
bash "$source_dir/bench/gpu-check.sh" --device "no such device" --out "$out-none" --build "$build_dir" --no-build \
    --quick 2>"$out-none.err" || status=$?
[ "$status" -eq 1 ] || fail "an unknown device gave exit $status, not 1"
grep -q 'no device matches "no such device"' "$out-none.err" || fail "no message for an unknown device"
[ ! -e "$out-none/tests.log" ] || fail "steps ran after an unknown device"
# A bad command line: exit 2.
status=0
bash "$source_dir/bench/gpu-check.sh" --budget soon >/dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "a bad --budget gave exit $status, not 2"
rm -rf "$out-none" "$out-none.err"
echo "gpu-check.sh: all steps passed on PoCL; $(grep -c ': identical' "$out/identity.txt") comparisons identical"
