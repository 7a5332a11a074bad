# The compound pipeline end to end (generator, face models and the astronaut photo).
toon_test(test_compound LABELS "e2e" SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_compound.c LIBS toon_pipeline TIMEOUT 1500)
target_compile_definitions(test_compound PRIVATE TOON_FACE_MODEL_DIR="${CMAKE_SOURCE_DIR}/models/face")
