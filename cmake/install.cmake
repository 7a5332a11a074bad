# Installation: `cmake --install build [--prefix P]` (or `make install PREFIX=P`) puts
#   bin/toonify                      the command (static in our libraries, as built)
#   lib/libtoonify.so.0 (+ .so)      the public API only (a version script hides the rest)
#   lib/libtoonify.a                 the engine's static libraries in one archive
#   include/toonify/*.h              the public headers
#   lib/pkgconfig/toonify.pc         for `pkg-config --cflags --libs toonify`
#   share/man/man1/toonify.1         the manual (CLI, serve, worker)
#   share/toonify/models/            the models of models/ (symlinks followed), when present
# The page's assets are embedded in the binary (src/service/build.cmake), so nothing else goes
# to share/.
#
# The shared library is linked from the existing static libraries with --whole-archive rather
# than compiled again from the same sources: one set of objects (the build stays as fast on two
# cores), and the static libraries keep their link lines.  They are compiled as position-
# independent code for that; x86-64 costs nothing measurable for it in an executable (the
# linker relaxes the GOT accesses), and the conversions' bytes do not change.
include(GNUInstallDirs)

set(toon_engine_libs toon_core toon_formats toon_image toon_nn toon_face toon_pipeline)
set_target_properties(${toon_engine_libs} PROPERTIES POSITION_INDEPENDENT_CODE ON)

# The model directory of the configured prefix comes last in toon_model_search_dirs.
target_compile_definitions(
  toon_pipeline PRIVATE TOON_MODEL_PREFIX_DIR="${CMAKE_INSTALL_FULL_DATADIR}/toonify/models")

# ---- exported symbols: every function the public headers declare ------------------------------
file(GLOB toon_public_headers ${CMAKE_SOURCE_DIR}/include/toonify/*.h)
set(toon_public_symbols "")
foreach(header ${toon_public_headers})
  file(READ ${header} text)
  string(REGEX MATCHALL "toon_[a-z0-9_]+\\(" calls "${text}")
  foreach(call ${calls})
    string(REPLACE "(" "" name "${call}")
    list(APPEND toon_public_symbols ${name})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES toon_public_symbols)
list(SORT toon_public_symbols)
list(JOIN toon_public_symbols ";\n    " toon_symbol_lines)
set(toon_version_script ${CMAKE_BINARY_DIR}/toonify.map)
file(WRITE ${toon_version_script}.in
     "TOONIFY_0 {\n  global:\n    ${toon_symbol_lines};\n  local:\n    *;\n};\n")
configure_file(${toon_version_script}.in ${toon_version_script} COPYONLY)

add_library(toonify_shared SHARED ${CMAKE_SOURCE_DIR}/cmake/empty.c)
set_target_properties(
  toonify_shared
  PROPERTIES OUTPUT_NAME toonify
             VERSION ${PROJECT_VERSION}
             SOVERSION ${PROJECT_VERSION_MAJOR}
             LINK_DEPENDS "${toon_version_script};${toon_whole}")
target_link_options(toonify_shared PRIVATE -Wl,--version-script=${toon_version_script})
# Every symbol resolved at link time -- except in clang's sanitizer builds, where the runtime
# is linked into the executable only and a shared library leaves its calls to it undefined.
if(NOT (CMAKE_C_COMPILER_ID STREQUAL "Clang" AND (TOON_SANITIZE OR TOON_FUZZ)))
  target_link_options(toonify_shared PRIVATE -Wl,--no-undefined)
endif()
# Not $<LINK_LIBRARY:WHOLE_ARCHIVE>: it refuses libraries that also come in through the others'
# link lines.  The static libraries' own dependencies are listed after them.
set(toon_whole "")
foreach(lib ${toon_engine_libs})
  list(APPEND toon_whole $<TARGET_FILE:${lib}>)
endforeach()
add_dependencies(toonify_shared ${toon_engine_libs})
target_link_libraries(
  toonify_shared
  PRIVATE -Wl,--whole-archive ${toon_whole} -Wl,--no-whole-archive
          PkgConfig::SPNG PkgConfig::WEBP PkgConfig::EXIF JPEG::JPEG ${DNNL_LIB} PkgConfig::CJSON
          OpenMP::OpenMP_C Threads::Threads m ${CMAKE_DL_LIBS})

# ---- one static archive of the engine libraries ---------------------------------------------
set(toon_static_archive ${CMAKE_BINARY_DIR}/libtoonify.a)
set(toon_mri "create ${toon_static_archive}\n")
foreach(lib ${toon_engine_libs})
  string(APPEND toon_mri "addlib $<TARGET_FILE:${lib}>\n")
endforeach()
string(APPEND toon_mri "save\nend\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/libtoonify.mri CONTENT "${toon_mri}")
add_custom_command(
  OUTPUT ${toon_static_archive}
  COMMAND ${CMAKE_COMMAND} -E rm -f ${toon_static_archive}
  COMMAND ${CMAKE_AR} -M < ${CMAKE_BINARY_DIR}/libtoonify.mri
  DEPENDS ${toon_engine_libs} ${CMAKE_BINARY_DIR}/libtoonify.mri
  COMMENT "Combining the engine libraries into libtoonify.a")
add_custom_target(toonify_static ALL DEPENDS ${toon_static_archive})

# ---- pkg-config -----------------------------------------------------------------------------
get_filename_component(toon_dnnl_dir ${DNNL_LIB} DIRECTORY)
# An instrumented library (TOON_SANITIZE) calls into the sanitizer runtimes, and ASan must come
# first in the program's libraries: a program built against it must link them too, so the .pc
# file says so.
set(toon_pc_extra_libs "")
if(TOON_SANITIZE)
  set(toon_pc_extra_libs "-fsanitize=address,undefined ")
endif()
file(RELATIVE_PATH toon_pc_to_prefix ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${CMAKE_SOURCE_DIR}/cmake/toonify.pc.in ${CMAKE_BINARY_DIR}/toonify.pc @ONLY)

# ---- install rules --------------------------------------------------------------------------
install(TARGETS toonify RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS toonify_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${toon_static_archive} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${toon_public_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/toonify)
install(FILES ${CMAKE_BINARY_DIR}/toonify.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_SOURCE_DIR}/doc/toonify.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

option(TOON_INSTALL_MODELS "Install the models found in models/ to share/toonify/models" ON)
if(TOON_INSTALL_MODELS AND EXISTS ${CMAKE_SOURCE_DIR}/models)
  # models/ holds symlinks into ../shared: install what they point at, under their own names.
  file(GLOB_RECURSE toon_model_files LIST_DIRECTORIES false FOLLOW_SYMLINKS
       RELATIVE ${CMAKE_SOURCE_DIR}/models ${CMAKE_SOURCE_DIR}/models/*)
  foreach(rel ${toon_model_files})
    if(rel MATCHES "^\\.|/\\.|^demo/")
      continue()
    endif()
    get_filename_component(real ${CMAKE_SOURCE_DIR}/models/${rel} REALPATH)
    get_filename_component(sub ${rel} DIRECTORY)
    get_filename_component(name ${rel} NAME)
    install(FILES ${real} DESTINATION ${CMAKE_INSTALL_DATADIR}/toonify/models/${sub}
            RENAME ${name} COMPONENT models)
  endforeach()
endif()
