# The toonify command: convert, faces, identify, info, models, serve and worker.
set(toon_cli_sources
  cli_convert.c
  cli_faces.c
  cli_identify.c
  cli_info.c
  cli_models.c
  cli_serve.c
  main.c
  omp_spin.c
  outputs.c
  util.c)
list(TRANSFORM toon_cli_sources PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
add_executable(toonify ${toon_cli_sources})
toon_module_headers(toonify cli PRIVATE)
target_compile_options(toonify PRIVATE ${TOON_WARNINGS})
target_link_libraries(toonify PRIVATE toon_service toon_pipeline)
