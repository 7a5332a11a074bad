# toon_face's own link line: cJSON parses the landmark net's weights manifest.  The face nets'
# kernels are plain C loops written for the vectoriser, so they get -O3 in optimised builds.
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
target_link_libraries(toon_face PRIVATE PkgConfig::CJSON)
target_compile_options(toon_face PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)
