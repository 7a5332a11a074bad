# --- TF GraphDef reader, SHA-256 and model directories (src/formats/protobuf.c, graphdef.c,
# graphdef_generator.c, sha256.c, modeldir.c).  pbwrite.c writes the test graphs; tools/make_pb.c uses it too.
toon_test(test_graphdef LABELS unit
          SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_graphdef.c ${CMAKE_CURRENT_LIST_DIR}/pbwrite.c
          LIBS toon_formats)
toon_test(test_modeldir LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_modeldir.c
          LIBS toon_formats)
# make_pb: writes a DCT-Net-style frozen graph from a TFLite generator (or tiny fake weights
# for the fuzz corpus); a tool, not a test.
add_executable(make_pb ${CMAKE_SOURCE_DIR}/tools/make_pb.c ${CMAKE_CURRENT_LIST_DIR}/pbwrite.c)
target_include_directories(make_pb PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_compile_options(make_pb PRIVATE ${TOON_WARNINGS})
target_link_libraries(make_pb PRIVATE toon_formats)
set_target_properties(make_pb PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tools)
# --- end GraphDef
