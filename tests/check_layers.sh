#!/usr/bin/env bash
# No layer reaches up. The layers, lowest first; each may use itself and those before it:
#   core (host/core) < io (host/io) < blas (host/blas) < dist (host/dist) < features (host/features) < bench (bench/)
#   < cli (host/cli)
# with features ordered inside as init < normalize < nn < model, and bench below cli (`oclinit bench` runs it).
# host/include/oclinit.h and kernels/*.h are shared: anyone may include them.
# Two checks: (a) every `#include "..."` in host/ and bench/, (b) every symbol an object file takes from another
# (nm), so that a call through a stray prototype is caught as well as an include.
#   tests/check_layers.sh SOURCE_DIR BUILD_DIR
#   tests/check_layers.sh --self-test      proves that both checks can fail
set -euo pipefail

# Files directly in host/features/ (a features.h for all of it) rank below its subfolders, so all of them may use them.
declare -A rank=([public]=0 [core]=1 [io]=2 [blas]=3 [dist]=4 [features]=5 [features/init]=6 [features/normalize]=7
                 [features/nn]=8 [features/model]=9 [bench]=10 [cli]=11)

# Sets $layer from a path relative to the source tree (or an object's path mapped onto it): a name in rank,
# "shared" for what anyone may use, or "" for a file outside every layer folder.
layer_of() {
  case $1 in
    host/include/* | kernels/*) layer=shared ;;
    host/core/*) layer=core ;;
    host/io/*) layer=io ;;
    host/blas/*) layer=blas ;;
    host/dist/*) layer=dist ;;
    host/features/init/*) layer=features/init ;;
    host/features/normalize/*) layer=features/normalize ;;
    host/features/nn/*) layer=features/nn ;;
    host/features/model/*) layer=features/model ;;
    host/features/*) layer=features ;;
    host/cli/*) layer=cli ;;
    bench/*) layer=bench ;;
    *) layer="" ;;
  esac
}

# Removes "." and "x/.." from a relative path, so that "host/features/nn/../init/i.h" maps to features/init.
normpath() {
  local IFS=/ part
  local -a out=()
  set -f
  for part in $1; do
    case $part in
      '' | .) ;;
      ..) ((${#out[@]})) && unset 'out[${#out[@]}-1]' ;;
      *) out+=("$part") ;;
    esac
  done
  set +f
  path="${out[*]}"
}

self_test() {
  local rc=0 out
  t=$(mktemp -d) # global: the EXIT trap runs after this function has returned
  trap 'rm -rf "$t"' EXIT
  # (a): core includes a features header, which need not exist for the include to be mapped.
  mkdir -p "$t/src/host/core" "$t/src/host/cli" "$t/src/bench"
  printf '#include "features/features.h"\n#include "oclinit.h"\n' > "$t/src/host/core/a.c"
  printf '#include "features/features.h"\n#include "bench.h"\n' > "$t/src/host/cli/main.c" # allowed
  # (b): core calls a features function; cli calls it too, which is allowed. Five objects, the least accepted.
  local d=$t/build/host/CMakeFiles/fake.dir
  mkdir -p "$d/core" "$d/io" "$d/blas" "$d/features" "$d/cli"
  printf 'void feat_y(void);\nvoid core_x(void) { feat_y(); }\n' > "$d/core/x.c"
  printf 'void feat_y(void) {}\n' > "$d/features/y.c"
  printf 'void io_z(void) {}\n' > "$d/io/z.c"
  printf 'void blas_w(void) {}\n' > "$d/blas/w.c"
  printf 'void feat_y(void);\nint main(void) { feat_y(); return 0; }\n' > "$d/cli/main.c"
  for c in "$d"/*/*.c; do cc -c "$c" -o "$c.o"; done
  out=$(bash "${BASH_SOURCE[0]}" "$t/src" "$t/build") || rc=$?
  printf '%s\n' "$out"
  local ok=1
  [[ $rc == 1 ]] || { echo "self-test: expected exit 1, got $rc"; ok=0; }
  grep -q '^BREACH: host/core/a.c: .*features/features.h.*(layer core uses layer features)$' <<< "$out" ||
    { echo "self-test: (a) missed core including features"; ok=0; }
  grep -q '^BREACH: .*/core/x.c.o: .*feat_y.*(layer core uses layer features)$' <<< "$out" ||
    { echo "self-test: (b) missed core calling features"; ok=0; }
  [[ $(grep -c '^BREACH' <<< "$out") == 2 ]] || { echo "self-test: expected exactly 2 breaches"; ok=0; }
  ((ok)) && echo "self-test: both breaches found" || exit 1
}

if [[ ${1-} == --self-test ]]; then
  self_test
  exit 0
fi
[[ $# == 2 ]] || { echo "usage: $0 SOURCE_DIR BUILD_DIR | --self-test" >&2; exit 2; }
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
breaches=0 cross=0
declare -A folders=()

breach() { echo "BREACH: $1: $2 (layer $3 uses layer $4)"; breaches=$((breaches + 1)); }

# Counts a reference from layer $1 to layer $2 and reports it (with $3 and $4) when it goes up.
check_ref() {
  [[ $2 == shared || $1 == "$2" ]] && return 0
  cross=$((cross + 1))
  local from_rank=${rank[$1]} to_rank=${rank[$2]}
  ((to_rank > from_rank)) && breach "$3" "$4" "$1" "$2"
  return 0
}

# (a) includes. Each is resolved as the compiler would (beside the includer, then on the include path); one that
# does not exist (yet) is mapped by its first component or its name (cli.h is cli's, bench.h bench's); any other
# name is a kernels/ or system header, which everyone may use.
cd "$src"
[[ -d host ]] || { echo "check_layers: no host/ in $src" >&2; exit 1; }
mapfile -t sources < <(find host -name '*.[ch]'; [[ -d bench ]] && find bench -maxdepth 1 -name '*.[ch]')
((${#sources[@]})) || { echo "check_layers: no sources under $src/host" >&2; exit 1; }
while IFS=$'\t' read -r file line inc; do
  layer_of "$file"
  from=${layer:-core} # a file outside every folder (host/internal.h) is held to the strictest rule
  [[ $from == shared ]] && from=public
  [[ $from != public ]] && folders[${from%%/*}]=1
  to=""
  for candidate in "${file%/*}/$inc" "host/$inc" "host/include/$inc" "kernels/$inc" "bench/$inc"; do
    if [[ -f $candidate ]]; then
      normpath "$candidate"
      layer_of "$path"
      to=${layer:-core}
      break
    fi
  done
  if [[ -z $to ]]; then
    case $inc in
      core/* | io/* | blas/* | dist/* | features/* | cli/*) layer_of "host/$inc"; to=$layer ;;
      bench/*) to=bench ;;
      core.h | io.h | blas.h | dist.h | features.h | cli.h | bench.h) to=${inc%.h} ;;
      *) to=shared ;;
    esac
  fi
  check_ref "$from" "$to" "$file" "line $line #include \"$inc\""
done < <(grep -nH -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' "${sources[@]}" |
         sed -E 's/^([^:]*):([0-9]+):[^"]*"([^"]+)".*/\1\t\2\t\3/')

# (b) symbols. CMake mirrors source paths under <target>.dir/ (and writes ".." as "__"), so dropping
# "CMakeFiles/<target>.dir/" and each "x/__/" maps an object onto the source tree. The embedded kernels
# (oi_kernel_*.c, test_kernel_*.c, generated from kernels/*.cl) are shared like kernels/*.h: core's runtime.c
# holds the table of them, so their objects are neither callers nor owners of a symbol here.
cd "$build"
declare -A def_layer=() def_obj=() obj_layer=()
objects=() unmapped=0
dirs=()
for d in host bench; do [[ -d $d ]] && dirs+=("$d"); done
((${#dirs[@]})) && mapfile -t found < <(find "${dirs[@]}" -name '*.o' | sort) || found=()
for obj in "${found[@]}"; do
  case ${obj##*/} in oi_kernel_* | test_kernel_*) continue ;; esac
  rel=$(sed -E 's#CMakeFiles/[^/]+\.dir/##; :a; s#[^/]+/__/##; ta' <<< "$obj")
  layer_of "$rel"
  if [[ -z $layer || $layer == shared ]]; then
    echo "UNMAPPED: $obj: not in a layer folder (core/ io/ blas/ dist/ features/ cli/ under host/, or bench/)"
    unmapped=$((unmapped + 1))
    continue
  fi
  obj_layer[$obj]=$layer
  folders[${layer%%/*}]=1
  objects+=("$obj")
  # A symbol defined twice (in binaries never linked together) belongs to the lower layer: using it is allowed.
  while read -r sym; do
    if [[ -z ${def_layer[$sym]-} ]] || ((${rank[$layer]} < ${rank[${def_layer[$sym]}]})); then
      def_layer[$sym]=$layer def_obj[$sym]=$obj
    fi
  done < <(nm -g --defined-only "$obj" | awk 'NF >= 3 {print $NF}')
done
for obj in "${objects[@]}"; do
  while read -r sym; do
    [[ -n ${def_layer[$sym]-} ]] || continue # libc, OpenCL, CLBlast...
    check_ref "${obj_layer[$obj]}" "${def_layer[$sym]}" "$obj" "uses $sym from ${def_obj[$sym]}"
  done < <(nm -u "$obj" | awk '{print $NF}')
done

# Too few objects means a wrong BUILD_DIR or layout, which must not pass as "no breach".
if ((${#objects[@]} < 5)); then
  echo "check_layers: only ${#objects[@]} objects mapped to a layer under $build/host and $build/bench" \
       "(wrong BUILD_DIR, or not built?)"
  exit 1
fi
if ((breaches || unmapped)); then
  echo "layers: $breaches upward references, $unmapped objects outside every layer folder"
  exit 1
fi
echo "layers: ${#folders[@]} folders, ${#objects[@]} objects, $cross cross-folder references checked, no upward call"
