# The Python package (python/) over the shared library, with Debian's python3 and python3-numpy
# (tools/install-deps.sh): outputs equal the CLI's byte for byte (~30 s), and
# `pip install ./python` from the checkout finds the built library (~10 s).
find_program(TOON_DEBIAN_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT TOON_DEBIAN_PYTHON)
  set(TOON_DEBIAN_PYTHON ${Python3_EXECUTABLE})
endif()
add_test(NAME test_python
         COMMAND ${CMAKE_COMMAND} -E env TOONIFY_LIBRARY=$<TARGET_FILE:toonify_shared>
                 ${TOON_DEBIAN_PYTHON} ${CMAKE_SOURCE_DIR}/python/tests/test_toonify.py
                 $<TARGET_FILE:toonify> ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/python)
set_tests_properties(test_python PROPERTIES LABELS "e2e;python" TIMEOUT 300)
add_test(NAME test_python_pip
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_pip.sh ${TOON_DEBIAN_PYTHON} ${CMAKE_SOURCE_DIR}
                 $<TARGET_FILE:toonify_shared> ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/pip)
set_tests_properties(test_python_pip PROPERTIES LABELS "e2e;python" TIMEOUT 300)
# In the sanitizer build the library needs the ASan runtime loaded before anything else, and
# Python itself is not leak-clean, so the runtime is preloaded and leak checking is off here
# (the C tests keep it).  Instrumented, test_python takes 140 s on an idle two-core machine and
# passed 300 s beside test_compound in `make dev`: it gets 900 s there.
if(TOON_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE toon_asan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
  set_tests_properties(test_python test_python_pip PROPERTIES
                       ENVIRONMENT "LD_PRELOAD=${toon_asan_runtime};ASAN_OPTIONS=detect_leaks=0"
                       TIMEOUT 900)
endif()
