# toon_service: the HTTP service (libmicrohttpd), its jobs, the scale-out mode over Redis, and
# the page of web/ embedded into the binary.  One file a line: add a new one where it sorts.
toon_library(toon_service service
  admission.c
  assets.c
  conns.c
  history.c
  http.c
  job_json.c
  jobs.c
  lang.c
  memory.c
  metrics.c
  multipart.c
  outputs.c
  params.c
  readiness.c
  redis.c
  rjobs.c
  routes.c
  routes_batch.c
  server.c
  style_names.c
  thumbs.c
  worker.c)
target_link_libraries(toon_service PUBLIC toon_pipeline)

# libmicrohttpd serves HTTP, libzip writes batch archives, cJSON writes and reads JSON, hiredis
# talks to Redis in the scale-out mode.  The page
# (web/*) is turned into a C file of byte arrays at build time by embed_web.cmake (plain CMake, no
# outside tool), so the binary serves it with no files beside it and works offline.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
target_link_libraries(toon_service PUBLIC PkgConfig::MHD PkgConfig::LIBZIP PkgConfig::CJSON
                                          PkgConfig::HIREDIS)

file(GLOB toon_web_files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/web/*)
set(toon_web_c ${CMAKE_BINARY_DIR}/generated/web_assets.c)
add_custom_command(
  OUTPUT ${toon_web_c}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${CMAKE_SOURCE_DIR}/web -DOUT=${toon_web_c}
          -P ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
  DEPENDS ${toon_web_files} ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
  COMMENT "Embedding web/ into web_assets.c")
target_sources(toon_service PRIVATE ${toon_web_c})
