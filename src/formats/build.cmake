# toon_formats: model file readers (TFLite, TF GraphDef, tfjs weights manifests), SHA-256, model
# directories.
toon_library(toon_formats formats
  flatbuf.c
  genweights.c
  graphdef.c
  graphdef_generator.c
  modeldir.c
  protobuf.c
  sha256.c
  tfjs.c
  tflite.c
  tflite_generator.c)
target_link_libraries(toon_formats PUBLIC toon_core)
# Its own link line: cJSON parses tfjs weights manifests.
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
target_link_libraries(toon_formats PRIVATE PkgConfig::CJSON)
