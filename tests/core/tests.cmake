toon_test(test_core LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_core.c LIBS toon_core)
