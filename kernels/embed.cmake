# Turns a kernel source into a C array so the installed binary does not need the source tree at run time.
# Run as: cmake -DSOURCE=kernels/init.cl -DOUTPUT=init_cl.c -DNAME=oi_kernel_init -P kernels/embed.cmake
# Each line `#include "x.h"` is replaced by the contents of kernels/x.h (recursively, each file once;
# the headers carry include guards anyway), so the OpenCL compiler needs no include path. Headers are
# looked up beside the including file, then in kernels/.
set(kernels_dir "${CMAKE_CURRENT_LIST_DIR}")

function(oi_inline_includes file out_var)
  get_filename_component(dir "${file}" DIRECTORY)
  file(READ "${file}" text)
  string(REGEX MATCHALL "#include \"[^\"]+\"" includes "${text}")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" name "${line}")
    set(header "${dir}/${name}")
    if(NOT EXISTS "${header}")
      set(header "${kernels_dir}/${name}") # tests' kernels include the shared headers from kernels/
    endif()
    if(NOT EXISTS "${header}")
      message(FATAL_ERROR "${file}: included file ${header} not found")
    endif()
    set(inner "")
    get_property(done GLOBAL PROPERTY "oi_inlined_${header}")
    if(NOT done)
      set_property(GLOBAL PROPERTY "oi_inlined_${header}" TRUE)
      oi_inline_includes("${header}" inner)
    endif()
    string(REPLACE "${line}" "${inner}" text "${text}")
  endforeach()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

oi_inline_includes("${SOURCE}" source_text)
file(WRITE "${OUTPUT}.cl" "${source_text}")
file(READ "${OUTPUT}.cl" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}" "/* Generated from ${SOURCE} by kernels/embed.cmake; do not edit. */\n#include <stddef.h>\n"
     "const char ${NAME}[] = {\n${bytes}0x00};\nconst size_t ${NAME}_size = ${size};\n")
file(REMOVE "${OUTPUT}.cl")
