# toon_convert_pixels against toon_convert, and model finding (issue 17: Python needs pixels).
toon_test(test_pixels LABELS "e2e" SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pixels.c LIBS toon_pipeline TIMEOUT 300)
target_compile_definitions(test_pixels PRIVATE TOON_FACE_MODEL_DIR="${CMAKE_SOURCE_DIR}/models/face")
