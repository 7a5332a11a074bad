# Face tests read the models and demo photos that tools/fetch-models.sh puts in models/.
toon_test(test_face LABELS "unit;golden" SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_face.c LIBS toon_face)
if(TARGET test_face)
  target_compile_definitions(test_face PRIVATE TOON_MODELS_DIR="${CMAKE_SOURCE_DIR}/models"
                                               TOON_FACE_MODEL_DIR="${CMAKE_SOURCE_DIR}/models/face")
endif()
# The pupil refinement against DCT-Net's find_pupil on synthetic pictures (no models needed).
toon_test(test_pupil LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pupil.c LIBS toon_face)
