toon_test(test_conv LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_conv.c LIBS toon_nn)
toon_test(test_generator LABELS "golden;invariance" SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_generator.c LIBS toon_nn TIMEOUT 600)
# The same golden and kernel tests with the instruction sets capped, so the AVX2-only and the
# pre-AVX2 paths (oneDNN's AVX2/SSE4.1 kernels, our AVX2 kernel) are checked on this CPU too.
foreach(isa avx2 none)
  add_test(NAME test_generator_${isa} COMMAND test_generator golden_2)
  add_test(NAME test_conv_${isa} COMMAND test_conv)
  set_tests_properties(test_generator_${isa} test_conv_${isa} PROPERTIES
    LABELS "golden;unit" TIMEOUT 600 ENVIRONMENT "TOONIFY_ISA=${isa}")
endforeach()
