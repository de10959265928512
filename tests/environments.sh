#!/usr/bin/env bash
# Hostile environments through the CLI. Under a memory limit (ulimit -v) every command ends: it works, fails with
# exit 1 and a message (out of memory, a driver that cannot be loaded), or, where an OpenCL driver itself crashes,
# says so first; it never spins (OpenBLAS retries a failed buffer allocation forever) or hangs. A registered
# OpenCL driver that cannot be loaded is named with the reason, never reported as no driver installed.
#   tests/environments.sh path/to/oclinit
set -uo pipefail
cli=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# under LIMIT_KB ARGS...: runs the CLI under ulimit -v, setting $code and $err.
under() {
    local limit=$1
    shift
    code=0
    (ulimit -v "$limit" && exec timeout -k 5 60 "$cli" "$@") >out.txt 2>err.txt || code=$?
    err=$(head -c 600 err.txt)
}

driver_registered=false
ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 && driver_registered=true

for limit in 60000 100000 200000 300000 450000 600000 1000000; do
    under "$limit" --version
    [ "$code" -eq 0 ] && grep -q '^oclinit ' out.txt || fail "--version under ulimit -v $limit: exit $code ($err)"
    for args in "devices" "init --scheme kaiming-normal --fan-in 100 --fan-out 10 --output w.npy" \
                "init --scheme kaiming-normal --fan-in 100 --fan-out 10 --output w.npy --device cpu" \
                "train --data circles --iterations 5 --quiet --save m.bin --device cpu" \
                "train --data circles --iterations 5 --quiet --save m.bin"; do
        # shellcheck disable=SC2086
        under "$limit" $args
        case $code in
        0) ;;
        1) [[ $err == *"ulimit -v"* || $err == *"cannot be loaded"* ]] ||
               fail "$args under ulimit -v $limit: exit 1 without naming the memory limit: $err" ;;
        134 | 139) [[ $err == *"crashed while this process may use only"* ]] ||
               fail "$args under ulimit -v $limit: a crash (exit $code) without the memory hint: $err" ;;
        124 | 137) fail "$args under ulimit -v $limit: still running after 60 s (a spin or a hang)" ;;
        *) fail "$args under ulimit -v $limit: exit $code: $err" ;;
        esac
        if $driver_registered && [[ $err == *"install an OpenCL driver"* ]]; then
            fail "$args under ulimit -v $limit: claims no OpenCL driver is installed: $err"
        fi
    done
done
# Too little for OpenBLAS's buffer, and enough for the host C path.
under 100000 train --data circles --iterations 5 --quiet --save m.bin --device cpu
[[ $code -eq 1 && $err == *"out of host memory"* && $err == *"ulimit -v"* ]] ||
    fail "train --device cpu under ulimit -v 100000: exit $code, expected 1 and out of host memory: $err"
under 400000 train --data circles --iterations 5 --quiet --save m.bin --device cpu
[ "$code" -eq 0 ] || fail "train --device cpu under ulimit -v 400000: exit $code: $err"

# A registered driver whose library is missing: named, with the loader's reason.
mkdir vendors
echo libnot-an-opencl-driver.so.1 >vendors/missing.icd
code=0
OCL_ICD_VENDORS=$work/vendors "$cli" devices >out.txt 2>err.txt || code=$?
err=$(cat err.txt)
[[ $code -eq 1 && $err == *"libnot-an-opencl-driver.so.1 (registered in $work/vendors/missing.icd) cannot be loaded"* &&
   $err != *"install an OpenCL driver"* ]] || fail "a driver that cannot be loaded: exit $code: $err"

# OpenBLAS's kernels: the user's OPENBLAS_CORETYPE is kept (and called older than a CPU with AVX2); without it, an
# AVX2 CPU runs AVX2 kernels or newer, whatever this OpenBLAS knows of it.
avx2=false
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && avx2=true
OPENBLAS_CORETYPE=Prescott "$cli" devices >out.txt 2>err.txt || fail "devices with OPENBLAS_CORETYPE=Prescott: $(cat err.txt)"
grep -q "OpenBLAS's Prescott kernels" out.txt || fail "OPENBLAS_CORETYPE=Prescott not kept: $(cat out.txt)"
if $avx2; then
    grep -q "older than this CPU; OPENBLAS_CORETYPE=" out.txt || fail "Prescott on an AVX2 CPU not flagged: $(cat out.txt)"
    env -u OPENBLAS_CORETYPE "$cli" devices >out.txt 2>err.txt
    grep -Eq "OpenBLAS's (Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids|Excavator) kernels$" out.txt ||
        fail "an AVX2 CPU without OPENBLAS_CORETYPE: $(grep OpenBLAS out.txt)"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures environment checks failed"
    exit 1
fi
echo "all environment checks passed"
