# Face tests read the models and demo photos that tools/fetch-models.sh puts in models/.
toon_test(test_face LABELS "unit;golden" SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_face.c LIBS toon_face)
target_compile_definitions(test_face PRIVATE TOON_MODELS_DIR="${CMAKE_SOURCE_DIR}/models"
                                             TOON_FACE_MODEL_DIR="${CMAKE_SOURCE_DIR}/models/face")
# The pupil refinement against DCT-Net's find_pupil on synthetic pictures (no models needed).
toon_test(test_pupil LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pupil.c LIBS toon_face)
# The same code against OpenCV itself (python3-opencv from Debian, tools/install-deps.sh):
# pupil_tool runs our primitives on the cases test_pupil_cv2.py makes and hands to cv2.
add_executable(pupil_tool ${CMAKE_CURRENT_LIST_DIR}/pupil_tool.c)
target_compile_options(pupil_tool PRIVATE ${TOON_WARNINGS})
target_link_libraries(pupil_tool PRIVATE toon_face)
find_program(TOON_DEBIAN_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(TOON_DEBIAN_PYTHON)
  add_test(NAME test_pupil_cv2
           COMMAND ${TOON_DEBIAN_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_pupil_cv2.py $<TARGET_FILE:pupil_tool>)
  set_tests_properties(test_pupil_cv2 PROPERTIES LABELS unit TIMEOUT 300)
elseif(DEFINED ENV{CI})
  message(FATAL_ERROR "test_pupil_cv2 needs Debian's /usr/bin/python3 with python3-opencv (tools/install-deps.sh)")
else()
  message(WARNING "no /usr/bin/python3: test_pupil_cv2 (the pupil finder against OpenCV) is not registered")
endif()
