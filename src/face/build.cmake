# toon_face: face detection, five points, 68 landmarks, alignment and masks (DCT-Net's face path).
toon_library(toon_face face
  align.c
  detect.c
  fivepts.c
  fnn.c
  landmarks.c
  lm68.c
  models.c
  pupil.c
  tfnet.c)
target_link_libraries(toon_face PUBLIC toon_nn toon_image toon_formats)

# The face nets' kernels are plain C loops written for the vectoriser, so they get -O3 in
# optimised builds.
target_compile_options(toon_face PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)
# The pupil finder reproduces OpenCV's double-precision Otsu search bit for bit: no fused
# multiply-adds there, whatever the compiler's default.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/face/pupil.c PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
