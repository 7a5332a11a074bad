# toon_core: allocation, logging, threads, CPU features, status messages.  Depends on nothing of
# ours; it carries the public headers (include/) to every library above it.
toon_library(toon_core core
  alloc.c
  cpu.c
  log.c
  parallel.c
  path.c
  procmem.c
  status.c)
target_include_directories(toon_core PUBLIC ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(toon_core PUBLIC OpenMP::OpenMP_C Threads::Threads m)
