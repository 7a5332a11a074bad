# toon_formats: model file readers (TFLite, TF GraphDef), SHA-256, model directories.
toon_library(toon_formats formats
  flatbuf.c
  genweights.c
  graphdef.c
  modeldir.c
  protobuf.c
  sha256.c
  tflite.c
  tflite_generator.c)
target_link_libraries(toon_formats PUBLIC toon_core)
