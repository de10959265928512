# Sourced by the MPI tests (mpi_model_test.sh, mpi_train_test.sh): a temporary folder removed at exit, a failure
# count, and mpirun as the tests need it: as root Open MPI wants both variables, and more ranks than cores need
# --oversubscribe.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mpi=(mpirun --oversubscribe)
