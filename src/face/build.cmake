# toon_face's own link line: cJSON parses the landmark net's weights manifest.  The face nets'
# kernels are plain C loops written for the vectoriser, so they get -O3 in optimised builds.
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
target_link_libraries(toon_face PRIVATE PkgConfig::CJSON)
target_compile_options(toon_face PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)
# The pupil finder reproduces OpenCV's double-precision Otsu search bit for bit: no fused
# multiply-adds there, whatever the compiler's default.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/face/pupil.c PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
