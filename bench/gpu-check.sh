#!/usr/bin/env bash
# The GPU run, ready for a machine with an NVIDIA GPU (NVIDIA's OpenCL driver, a C compiler, CMake and the
# packages of .ci/install-deps): builds, lists the devices, runs the device tests on the GPU, checks that every
# scheme of `oclinit init` and both normalizations give the same bytes on the GPU as on the host C path, tunes
# CLBlast within a budget, runs `oclinit bench --quick`, and times TinyLlama's whole bf16 checkpoint against a plain
# write on the GPU and on the host path (`oclinit bench --only model`), writing everything into one folder (under 10
# minutes).
#
#   bench/gpu-check.sh [--device D] [--out DIR] [--build DIR] [--no-build] [--budget S] [--quick]
#
#   --device D   the device to check, as `--device` takes it (default nvidia: the platform or the device name)
#   --out DIR    the folder (default bench/results/gpu/DATE-DEVICE, the device's name once it is known)
#   --build DIR  the build folder (default build-gpu in the repository); --no-build uses it as it is
#   --budget S   seconds for `oclinit tune` (default 90)
#   --quick      the script's own test (CI runs it on PoCL): one test program, a 1 s tuning, the bench's
#                init and normalize parts once each, and no checkpoint
#
# Without a registered NVIDIA driver (no nvidia.icd under /etc/OpenCL/vendors, as in some containers), it points
# the OpenCL loader at libnvidia-opencl.so.1 where it finds one. Every step runs even when one before failed;
# summary.txt lists them, and the exit status is 1 when any failed, 2 on a bad command line.
set -uo pipefail

device=nvidia out="" build="" do_build=1 budget=90 quick=0
while [ $# -gt 0 ]; do
    case "$1" in
    --device) device=${2:?--device needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --budget) budget=${2:?--budget needs seconds}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check.sh: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
    esac
done
case "$budget" in '' | *[!0-9]*) echo "gpu-check.sh: --budget takes whole seconds, not \"$budget\"" >&2; exit 2 ;; esac
# --out and --build are taken from the caller's directory; the defaults and the run from the repository's root.
named_out=$out
if [ -n "$out" ]; then mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 2; fi
if [ -n "$build" ]; then build=$(realpath -m "$build") || exit 2; fi
cd "$(dirname "$0")/.." || exit 2
[ -n "$build" ] || build=$PWD/build-gpu
[ -n "$out" ] || { out=$PWD/bench/results/gpu/$(date -u +%Y-%m-%d) && mkdir -p "$out"; } || exit 2
oclinit=$build/host/oclinit
# The tuned parameters stay with the results, and the developer's own cache is left alone.
export OCLINIT_CACHE_DIR=$out/cache
: >"$out/summary.txt"
failed=0

# step NAME LOG TIMEOUT COMMAND...: runs one step into LOG, recording its status and time in summary.txt.
step() {
    local name=$1 log=$2 limit=$3 start status
    shift 3
    start=$(date +%s)
    echo "== $name" >&2
    timeout "$limit" bash -c '"$@"' "$name" "$@" >"$out/$log" 2>&1
    status=$?
    local verdict=passed
    [ "$status" -eq 0 ] || { verdict="FAILED (exit $status$([ "$status" -eq 124 ] && echo ", over ${limit} s"))"; failed=1; }
    printf '%-10s %-40s %4d s  %s\n' "$name" "$verdict" $(($(date +%s) - start)) "$log" >>"$out/summary.txt"
    return "$status"
}

# The machine, the driver and the commit the figures belong to.
environment() {
    date -u +"date %Y-%m-%dT%H:%M:%SZ"
    echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with local changes)')"
    uname -a
    grep -m1 "model name" /proc/cpuinfo
    echo "cores $(nproc)"
    command -v nvidia-smi >/dev/null && nvidia-smi
    echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-} (registered: $(ls /etc/OpenCL/vendors 2>/dev/null | tr '\n' ' '))"
    command -v clinfo >/dev/null && clinfo -l
    return 0
}

# NVIDIA's driver, registered for the loader if no .icd file names it.
register_nvidia() {
    [ -z "${OCL_ICD_VENDORS:-}" ] || return 0
    grep -qs nvidia /etc/OpenCL/vendors/*.icd && return 0
    local library
    for library in /usr/local/nvidia/lib64/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 \
        /usr/lib64/libnvidia-opencl.so.1 $(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl.so.1/ {print $NF}'); do
        if [ -e "$library" ]; then
            mkdir -p "$out/icd"
            echo "$library" >"$out/icd/nvidia.icd"
            for other in /etc/OpenCL/vendors/*.icd; do [ -e "$other" ] && cp "$other" "$out/icd/"; done
            export OCL_ICD_VENDORS=$out/icd
            return 0
        fi
    done
}

# Builds the project (Release, every core).
build_project() {
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release && cmake --build "$build" -j"$(nproc)"
}

# Lists the devices with $device as the default: the line marked * is the one checked. Fails when none matches.
list_devices() {
    OCLINIT_DEVICE=$device "$oclinit" devices || return 1
    ! grep -q "names no device" "$out/devices.txt"
}

# The device tests (cmocka) on the device: every scheme and normalization bit for bit against the host, the
# network against its host twin, the shared math and Philox's known answers.
# The programs run directly rather than through ctest, which may be the caller (CI runs this script as a test).
device_tests() {
    local tests=(philox floatmath init orthogonal statistics normalize network runtime) name status=0
    [ "$quick" -eq 1 ] && tests=(philox)
    for name in "${tests[@]}"; do
        [ -x "$build/tests/test_$name" ] || continue
        echo "== test_$name"
        (cd "$build/tests" && OCLINIT_TEST_DEVICE=$device ./"test_$name") || status=1
    done
    return "$status"
}

# Every scheme that `oclinit init --help` lists, made on the device and on the host C path: the same bytes.
# Options marked "(required)" get 0.5; a scheme that refuses a 2-D shape gets a 4-D one.
identity() {
    local work=$out/identity-files mismatches=0 scheme options shape
    mkdir -p "$work"
    "$oclinit" init --help | awk '/^Schemes/ {on = 1; next} /^ *[A-Z]/ {on = 0} on' >"$work/schemes.txt"
    while read -r scheme options; do
        shape_ok=0
        for shape in 383,259 64,16,3,3; do
            if "$oclinit" init --scheme "$scheme" $options --shape "$shape" --seed 0x0123456789abcdef --stream 3 \
                --device cpu --quiet --output "$work/host.npy" >/dev/null 2>"$work/host.err"; then
                shape_ok=1
                break
            fi
        done
        if [ "$shape_ok" -eq 0 ]; then
            echo "$scheme: the host path refused it: $(tail -1 "$work/host.err")"
            mismatches=$((mismatches + 1))
            continue
        fi
        if ! "$oclinit" init --scheme "$scheme" $options --shape "$shape" --seed 0x0123456789abcdef --stream 3 \
            --device "$device" --quiet --output "$work/device.npy" >/dev/null 2>"$work/device.err"; then
            echo "$scheme: FAILED on the device: $(tail -1 "$work/device.err")"
            mismatches=$((mismatches + 1))
        elif cmp -s "$work/host.npy" "$work/device.npy"; then
            echo "$scheme$options, shape $shape: identical"
        else
            echo "$scheme$options, shape $shape: DIFFERS: $(cmp "$work/host.npy" "$work/device.npy" | head -1)"
            mismatches=$((mismatches + 1))
        fi
    done < <(awk '
        match($0, /^  [a-z][a-z0-9-]*(, [a-z][a-z0-9-]*)*/) {
            line = substr($0, 3); n = split(substr($0, 3, RLENGTH - 2), list, /, /)
            options = ""; rest = line
            while (match(rest, /--[a-z-]+ [A-Z]+ \(required\)/)) {
                split(substr(rest, RSTART, RLENGTH), part, " "); options = options " " part[1] " 0.5"
                rest = substr(rest, RSTART + RLENGTH)
            }
            for (i = 1; i <= n; i++) print list[i] options
        }' "$work/schemes.txt")
    [ -s "$work/schemes.txt" ] || { echo "no scheme found in oclinit init --help"; return 1; }
    # Normalization: fitted and applied on the device and on the host, min-max and z-score, on 2000 x 6 values
    # of magnitudes from 1e-3 to 1e6.
    awk 'BEGIN { srand(7); print "a,b,c,d,e,f,y"
                 for (i = 0; i < 2000; i++) printf "%.7g,%.7g,%.7g,%.7g,%.7g,%.7g,%d\n", rand(), 1e6 * rand() - 3e5,
                   1e-3 * rand(), rand() * rand() - 0.5, 42 + rand(), -7 * rand(), i % 2 }' >"$work/data.csv"
    local method where
    for method in minmax zscore; do
        for where in cpu "$device"; do
            "$oclinit" normalize --method "$method" --label y --input "$work/data.csv" --device "$where" \
                --output "$work/$method-$where.csv" --save-stats "$work/$method-$where.txt" >/dev/null 2>&1 ||
                echo "normalize --method $method: FAILED on $where"
        done
        if cmp -s "$work/$method-cpu.csv" "$work/$method-$device.csv" &&
            cmp -s "$work/$method-cpu.txt" "$work/$method-$device.txt"; then
            echo "normalize $method (2000 x 6): identical data and statistics"
        else
            echo "normalize $method (2000 x 6): DIFFERS"
            mismatches=$((mismatches + 1))
        fi
    done
    echo "$mismatches mismatches"
    [ "$mismatches" -eq 0 ]
}

# CLBlast's GEMM tuned for the device within the budget; the parameters go to $out/cache.
tune() {
    "$oclinit" tune --device "$device" --budget "$budget" --quiet
}

bench() {
    local only=()
    [ "$quick" -eq 1 ] && only=(--only "init,normalize" --repeat 1)
    mkdir -p "$out/plots" &&
        "$oclinit" bench --quick --device "$device" --quiet --csv "$out/bench.csv" --plot "$out/plots" "${only[@]}"
}

# The whole checkpoint, 2.2 GB a run, in three rounds: the bench --quick above writes 2 of its 22 layers only.
model() {
    "$oclinit" bench --only model --repeat 3 --device "$device" --quiet
}

[ "$quick" -eq 1 ] && budget=1
# The steps run in a child shell, under timeout.
export device out build oclinit quick budget
export -f environment build_project list_devices device_tests identity tune bench model
register_nvidia
step environment environment.txt 60 environment
if [ "$do_build" -eq 1 ]; then step build build.log 300 build_project; fi
[ -x "$oclinit" ] || { echo "gpu-check.sh: no $oclinit to run" >&2; exit 1; }
if ! step devices devices.txt 60 list_devices; then
    cat "$out/devices.txt" >&2
    echo "gpu-check.sh: no device matches \"$device\"; see $out/devices.txt" >&2
    exit 1
fi
# The default folder takes the device's name, as devices.txt marks it.
if [ -z "$named_out" ]; then
    name=$(awk '/^\*/ {for (i = 4; i < NF && $(i + 1) != "GiB"; i++) printf "%s ", $i; exit}' "$out/devices.txt" |
        sed 's/[^A-Za-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
    if [ -n "$name" ] && [ ! -e "$out-$name" ] && mv "$out" "$out-$name"; then
        out=$out-$name
        export OCLINIT_CACHE_DIR=$out/cache
        [ -z "${OCL_ICD_VENDORS:-}" ] || [ ! -d "$out/icd" ] || export OCL_ICD_VENDORS=$out/icd
    fi
fi
step tests tests.log $((quick ? 120 : 180)) device_tests
step identity identity.txt 120 identity
step tune tune.txt $((budget + 90)) tune
step bench bench.txt 240 bench
[ "$quick" -eq 1 ] || step model model.txt 300 model
rm -rf "$out/identity-files"
cat "$out/summary.txt"
echo "results in $out"
exit "$failed"
