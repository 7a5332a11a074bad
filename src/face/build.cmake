# toon_face: face detection, five points, 68 landmarks, alignment and masks (DCT-Net's face path).
toon_library(toon_face face
  align.c
  detect.c
  fivepts.c
  landmarks.c
  lm68.c
  models.c
  pupil.c)
target_link_libraries(toon_face PUBLIC toon_nn toon_image toon_formats)

# The face path's loops (decoding the nets' outputs, the landmark net's blocks) are plain C
# written for the vectoriser, as the nets' kernels (nn/fnn.c) are, so they get -O3 in optimised
# builds.
target_compile_options(toon_face PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)
# The pupil finder reproduces OpenCV's double-precision Otsu search bit for bit: no fused
# multiply-adds there, whatever the compiler's default.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/face/pupil.c PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
