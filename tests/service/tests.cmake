# Service tests: real HTTP on loopback against servers the tests start themselves.
#   test_service_api     the API end to end (label e2e, service): ~15-30 s
#   test_service_memory  12 clients at 2048/4096 px and a hostile mix (a WebP with two ALPH
#                        chunks, PNG bombs, slow clients) inside a 300 MiB memory cgroup (needs root
#                        or a delegated cgroup; fails, never skips, when none can be made):
#                        1.5-3 minutes on two cores, so labelled slow (`make test-all` runs it)
#   test_service_scale   scale-out: redis-server, nginx, two replicas, workers (one killed),
#                        Redis restarted mid-batch (label e2e, service, redis): ~1-2 minutes
#   test_service_slow    64 slow clients, deadlines, connections per address (label e2e,
#                        service): ~20 s
#   test_service_disk    a full disk (a tmpfs it mounts: needs root, fails, never skips, without)
#                        at each stage of a job: one 507 answer, no server path (e2e, service)
#   test_service_units   the multipart and parameter parsers (unit)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME test_service_api
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_api.py $<TARGET_FILE:toonify>
                   ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/service-api)
  set_tests_properties(test_service_api PROPERTIES LABELS "e2e;service" TIMEOUT 600)
  add_test(NAME test_service_memory
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_memory_cgroup.py
                   $<TARGET_FILE:toonify> ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/service-memory)
  set_tests_properties(test_service_memory PROPERTIES LABELS "slow;service" TIMEOUT 900)
  add_test(NAME test_service_slow
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_slow_clients.py
                   $<TARGET_FILE:toonify> ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/service-slow)
  set_tests_properties(test_service_slow PROPERTIES LABELS "e2e;service" TIMEOUT 120)
  add_test(NAME test_service_disk
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_disk_full.py
                   $<TARGET_FILE:toonify> ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/service-disk)
  set_tests_properties(test_service_disk PROPERTIES LABELS "e2e;service" TIMEOUT 300)
  add_test(NAME test_service_scale
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_scale_redis.py
                   $<TARGET_FILE:toonify> ${CMAKE_SOURCE_DIR} ${TOON_SHARED_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/service-scale)
  set_tests_properties(test_service_scale PROPERTIES LABELS "e2e;service;redis" TIMEOUT 900)
endif()
toon_test(test_service_units LABELS unit
          SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_service_units.c LIBS toon_service)
