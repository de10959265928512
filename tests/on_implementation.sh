#!/usr/bin/env bash
# Runs a device test program on one OpenCL implementation and fails unless every test passed there:
#   on_implementation.sh IMPLEMENTATION PROGRAM [ARGS...]
# The caller sets OCLINIT_TEST_DEVICE (and OCLINIT_TEST_FILTER); the program names the device it ran on
# (tests/helpers.c), which must belong to IMPLEMENTATION, so that a filter matching nothing, or a device chosen
# elsewhere, fails instead of passing without a device test.
set -uo pipefail
implementation=$1
shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -ne 0 ]; then
    echo "on_implementation.sh: $1 failed (exit $status) on $implementation" >&2
    exit 1
fi
if ! grep -qi "^device tests run on .*, implementation $implementation " <<<"$output"; then
    echo "on_implementation.sh: $1 ran no device test on $implementation" >&2
    exit 1
fi
