#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds README.md's C example against it, once through
# pkg-config and once through the CMake package, then runs both.
#   tests/install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
for f in include/oclinit.h bin/oclinit; do [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }; done
libdir=$(dirname "$(find "$prefix" -name 'liboclinit.so' | head -n 1)")

# The C block of the README's "The library" section.
awk '/^## The library/ {in_section = 1} in_section && /^```c$/ {in_code = 1; next}
     in_code && /^```$/ {exit} in_code {print}' "$source_dir/README.md" > "$work/example.c"
[ -s "$work/example.c" ] || { echo "no C example found in README.md"; exit 1; }

PKG_CONFIG_PATH=$libdir/pkgconfig cc "$work/example.c" $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs oclinit) \
    -Wl,-rpath,"$libdir" -o "$work/example_pkgconfig"
"$work/example_pkgconfig" | grep -q "w\[0\]\[0\] = "

mkdir "$work/consumer"
cp "$work/example.c" "$work/consumer/"
cat > "$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(oclinit REQUIRED)
add_executable(example example.c)
target_link_libraries(example PRIVATE oclinit::oclinit)
CMAKE
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
cmake --build "$work/consumer/build" >/dev/null
"$work/consumer/build/example" | tee "$work/out.txt" | grep -q "w\[0\]\[0\] = "
cat "$work/out.txt"

# A consumer on OpenCL 3.0 headers: nothing in oclinit's flags forces 1.2 on it, and oclinit runs on its queue.
flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs oclinit)
case "$flags" in *CL_TARGET_OPENCL_VERSION*) echo "pkg-config forces an OpenCL version: $flags"; exit 1;; esac
cc -Wall -Werror "$source_dir/tests/compat/consumer_cl300.c" $flags -Wl,-rpath,"$libdir" -o "$work/consumer_cl300"
"$work/consumer_cl300"

# The 0.1 README example, with CHANGELOG.md's renames applied mechanically, still builds and runs.
renames=$(sed -n 's/^| `\(oclinit_[a-z_0-9]*\)` | `\(oclinit_[a-z_0-9]*\)` |$/s\/\\b\1\\b\/\2\/g;/p' "$source_dir/CHANGELOG.md")
[ -n "$renames" ] || { echo "no renames found in CHANGELOG.md"; exit 1; }
sed "$renames" "$source_dir/tests/compat/readme_example_0.1.c" > "$work/example_0.1.c"
cc -Wall -Werror "$work/example_0.1.c" $flags -Wl,-rpath,"$libdir" -o "$work/example_0.1"
"$work/example_0.1" | grep -q "w\[0\]\[0\] = "
echo "installed library works through pkg-config and through find_package(oclinit), for an OpenCL 3.0 consumer, and for the 0.1 example after CHANGELOG.md's renames"
