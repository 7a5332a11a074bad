# Tests of src/image: codecs (JPEG, PNG, WebP, EXIF) and resize.  The codec test also links the
# codec libraries directly, to write the flavours it decodes.  With TOON_IMAGE_CORPUS_DIR set
# (e.g. to fuzz/corpus) it also writes the seed corpora of fuzz/fuzz_decode_*.c.
toon_test(test_image_codec LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_codec.c
  LIBS toon_image PkgConfig::SPNG PkgConfig::WEBP JPEG::JPEG)
target_include_directories(test_image_codec PRIVATE ${CMAKE_CURRENT_LIST_DIR})

toon_test(test_image_resize LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_resize.c
  LIBS toon_image)
target_compile_definitions(test_image_resize PRIVATE
  TOON_IMAGE_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data")

# Plans against the whole process heap (libjpeg and libwebp malloc directly): the heap meter.
toon_test(test_image_heap LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_heap.c ${CMAKE_CURRENT_LIST_DIR}/../heap_meter.c
  LIBS toon_image PkgConfig::SPNG PkgConfig::WEBP JPEG::JPEG)
target_include_directories(test_image_heap PRIVATE ${CMAKE_CURRENT_LIST_DIR})

# Bilinear sampling, affine inversion and warps.
toon_test(test_image_affine LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_affine.c
  LIBS toon_image)
