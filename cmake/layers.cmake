# The layers of CMakeLists.txt's header, enforced by the build.
#
# Each src/<dir> is one static library built from the sources its src/<dir>/build.cmake names
# (no globbing: a file is in the build because a list says so).  Its headers are reached through
# an include root of its own, build/inc/<dir>/, holding one symlink <dir> -> src/<dir>; the root is
# a PUBLIC include directory of that library only, so a module's sources see "<dir>/file.h" of
# their own module and of the libraries they link (transitively), and an include that crosses a
# layer upwards or sideways is a compile error.  include/ (the public API) comes with toon_core.
# Nothing exports src/ itself.  tests/layers checks all this on the configured targets.

# toon_module_headers(<target> <dir> <PUBLIC|PRIVATE>): src/<dir>'s headers for <target>.
function(toon_module_headers target dir scope)
  set(root ${CMAKE_BINARY_DIR}/inc/${dir})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${dir} ${root}/${dir} SYMBOLIC)
  target_include_directories(${target} ${scope} ${root})
endfunction()

# toon_library(<target> <dir> <file.c>...): the static library of src/<dir>, from the files named
# (relative to src/<dir>).
function(toon_library name dir)
  list(TRANSFORM ARGN PREPEND ${CMAKE_SOURCE_DIR}/src/${dir}/ OUTPUT_VARIABLE srcs)
  add_library(${name} STATIC ${srcs})
  toon_module_headers(${name} ${dir} PUBLIC)
  target_compile_options(${name} PRIVATE ${TOON_WARNINGS})
endfunction()

# toon_check_source_lists(<target>...): every .c file under src/ is a source of one of the
# targets, or configuring fails naming it (cmake/check_sources.cmake).
function(toon_check_source_lists)
  set(listed "")
  foreach(target ${ARGN})
    get_target_property(srcs ${target} SOURCES)
    list(APPEND listed ${srcs})
  endforeach()
  set(TOON_SRC_DIR ${CMAKE_SOURCE_DIR}/src)
  set(TOON_LISTED_SOURCES ${listed})
  include(${CMAKE_SOURCE_DIR}/cmake/check_sources.cmake)
  list(JOIN listed "\n" text)
  file(WRITE ${CMAKE_BINARY_DIR}/toon_sources.txt "${text}\n")
endfunction()
