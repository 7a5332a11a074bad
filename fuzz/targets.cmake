list(APPEND TOON_FUZZ_TARGETS "tflite:toon_formats")
list(APPEND TOON_FUZZ_TARGETS "graphdef:toon_formats")
