# The container (Dockerfile) under a 300 MB limit with 12 clients at 2048/4096 px: slow (several
# minutes) and it needs podman and an image built beforehand (see test_container.py), so it is
# labelled slow and container and registered only where podman is installed.  CI skips it.
find_program(TOON_PODMAN podman)
if(TOON_PODMAN AND Python3_Interpreter_FOUND)
  add_test(NAME test_container
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_container.py
                   localhost/toonify:latest ${TOON_SHARED_DIR})
  set_tests_properties(test_container PROPERTIES LABELS "slow;container" TIMEOUT 1200)
endif()
