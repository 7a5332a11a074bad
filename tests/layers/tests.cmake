# The layers of CMakeLists.txt's header, enforced by the build (issue 18): the sources of each
# library see include/, their own headers and those of the libraries they link, and nothing else
# of src/.  test_layers compiles one #include per line below with the include directories the
# library's own sources get (read from the target, so it checks the build as it is): "visible"
# headers must compile, "hidden" ones must not be found.
set(toon_layer_probes
    "toon_core:core/log.h:visible"
    "toon_core:toonify/status.h:visible"
    "toon_core:formats/tflite.h:hidden"
    "toon_core:image/codec.h:hidden"
    "toon_formats:formats/tflite.h:visible"
    "toon_formats:core/alloc.h:visible"
    "toon_formats:image/codec.h:hidden"
    "toon_formats:nn/model.h:hidden"
    "toon_image:image/codec.h:visible"
    "toon_image:core/alloc.h:visible"
    "toon_image:formats/tflite.h:hidden"
    "toon_image:nn/conv.h:hidden"
    "toon_nn:nn/conv.h:visible"
    "toon_nn:formats/genweights.h:visible"
    "toon_nn:image/codec.h:hidden"
    "toon_nn:face/face.h:hidden"
    "toon_nn:nn/tfnet.h:visible"
    "toon_image:image/affine.h:visible"
    "toon_formats:formats/tfjs.h:visible"
    "toon_face:nn/tfnet.h:visible"
    "toon_face:face/face.h:visible"
    "toon_face:nn/model.h:visible"
    "toon_face:image/codec.h:visible"
    "toon_face:pipeline/convert.h:hidden"
    "toon_pipeline:pipeline/convert.h:visible"
    "toon_pipeline:face/face.h:visible"
    "toon_pipeline:service/service.h:hidden"
    "toon_pipeline:cli/cli.h:hidden"
    "toon_service:service/service.h:visible"
    "toon_service:pipeline/convert.h:visible"
    "toon_service:cli/cli.h:hidden"
    "toonify:cli/cli.h:visible"
    "toonify:service/service.h:visible")

set(toon_layer_dir ${CMAKE_CURRENT_BINARY_DIR}/layers)
set(toon_layer_libs "")
foreach(probe ${toon_layer_probes})
  string(REPLACE ":" ";" parts ${probe})
  list(GET parts 0 lib)
  list(APPEND toon_layer_libs ${lib})
endforeach()
list(REMOVE_DUPLICATES toon_layer_libs)
foreach(lib ${toon_layer_libs})
  file(GENERATE OUTPUT ${toon_layer_dir}/${lib}.inc
       CONTENT "$<JOIN:$<TARGET_PROPERTY:${lib},INCLUDE_DIRECTORIES>,\n>\n")
endforeach()
string(REPLACE ";" "," toon_layer_probe_arg "${toon_layer_probes}")
add_test(NAME test_layers
         COMMAND ${CMAKE_COMMAND} -DCC=${CMAKE_C_COMPILER} -DDIR=${toon_layer_dir}
                 -DPROBES=${toon_layer_probe_arg} -P ${CMAKE_SOURCE_DIR}/cmake/check_layers.cmake)
set_tests_properties(test_layers PROPERTIES LABELS unit TIMEOUT 120)

# The configure-time check that every .c file under src/ is in a source list
# (cmake/check_sources.cmake), run on the configured lists (it passes) and on the same lists
# without src/core/alloc.c (it must fail, naming that file).
set(toon_listed_file ${CMAKE_BINARY_DIR}/toon_sources.txt)
file(STRINGS ${toon_listed_file} toon_listed)
list(REMOVE_ITEM toon_listed ${CMAKE_SOURCE_DIR}/src/core/alloc.c)
list(JOIN toon_listed "\n" toon_listed_text)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/toon_sources_but_one.txt "${toon_listed_text}\n")
foreach(variant listed but_one)
  if(variant STREQUAL "listed")
    set(file ${toon_listed_file})
  else()
    set(file ${CMAKE_CURRENT_BINARY_DIR}/toon_sources_but_one.txt)
  endif()
  add_test(NAME test_source_lists_${variant}
           COMMAND ${CMAKE_COMMAND} -DTOON_SRC_DIR=${CMAKE_SOURCE_DIR}/src -DTOON_LISTED_FILE=${file}
                   -P ${CMAKE_SOURCE_DIR}/cmake/check_sources.cmake)
  set_tests_properties(test_source_lists_${variant} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()
set_tests_properties(test_source_lists_but_one PROPERTIES
                     PASS_REGULAR_EXPRESSION "in no list[^\n]*build\\.cmake\\):[ \n]*src/core/alloc\\.c")
