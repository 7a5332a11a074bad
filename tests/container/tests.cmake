# The container (Dockerfile) under a 300 MB limit with 12 clients at 2048/4096 px.  It needs a
# container engine that can run containers here and the image built beforehand (see
# test_container.py), and takes minutes, so it is registered only on request:
#   cmake --preset release -DTOON_CONTAINER_TEST=ON && cd build && ctest -L container
# CI does not run it.  Labels: slow, container.
option(TOON_CONTAINER_TEST "Register the container test (needs podman and the built image)" OFF)
if(TOON_CONTAINER_TEST)
  add_test(NAME test_container
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_container.py
                   localhost/toonify:latest ${TOON_SHARED_DIR})
  set_tests_properties(test_container PROPERTIES LABELS "slow;container" TIMEOUT 1200)
endif()
