# --- TFLite reader and generator extraction (src/formats/flatbuf.c, tflite.c, tflite_generator.c)
toon_test(test_tflite LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tflite.c LIBS toon_formats)
# The same mutation test of the fp16 file, 40,000 mutations instead of 2,000.
add_test(NAME test_tflite_mutated_long COMMAND test_tflite mutated)
set_tests_properties(test_tflite_mutated_long PROPERTIES LABELS slow TIMEOUT 1800
                     ENVIRONMENT TOON_TFLITE_MUTATIONS=20000)
# --- end TFLite

# --- tfjs weights manifests (src/formats/tfjs.c)
toon_test(test_tfjs LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tfjs.c LIBS toon_formats)
