toon_test(test_conv LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_conv.c LIBS toon_nn)
toon_test(test_generator LABELS "golden;invariance" SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_generator.c LIBS toon_nn TIMEOUT 600)
