#!/usr/bin/env bash
# Writes a layer larger than the device's memory (default 65536 x 65536 float32, 16 GiB) with `oclinit init`
# and prints the time, the throughput and the peak resident memory of the process, then deletes the file.
#   bench/large_layer.sh [FAN] [DIR] [DEVICE]     e.g. bench/large_layer.sh 65536 /tmp cpu
set -euo pipefail
fan=${1:-65536}
dir=${2:-${TMPDIR:-/tmp}}
device=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
cli=${OCLINIT_CLI:-$here/build/host/oclinit}
out="$dir/oclinit-large-layer.npy"
trap 'rm -f "$out"' EXIT
args=(init --scheme he-normal --fan-in "$fan" --fan-out "$fan" --seed 1 --output "$out" --quiet)
[ -n "$device" ] && args+=(--device "$device")
/usr/bin/time -f '%e s elapsed, peak resident memory %M KiB' "$cli" "${args[@]}"
ls -l "$out"
