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
echo "installed library works through pkg-config and through find_package(oclinit)"
