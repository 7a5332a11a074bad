# toon_pipeline: a conversion end to end (decode, faces, generator, encode), planned before it runs.
toon_library(toon_pipeline pipeline
  compound.c
  convert.c
  models_find.c
  pixels.c)
target_link_libraries(toon_pipeline PUBLIC toon_face toon_nn toon_image)
