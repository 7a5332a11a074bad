# toon_nn: the generator network and its convolution kernels (ours and oneDNN's), and the small
# float interpreter for TFLite vision nets and its kernels (fnn.c, tfnet.c: the face nets).
#
# The ISA-specific kernels (<name>__<isa>.c) are compiled for their ISA only and chosen at run
# time (core/cpu.h); each list below gets its ISA's flags.
set(toon_nn_avx2_sources
  conv_direct__avx2.c
  conv_wino__avx2.c)
set(toon_nn_avx512_sources
  conv_direct__avx512.c
  conv_wino__avx512.c)
set(toon_nn_avx512bf16_sources
  conv_span__avx512bf16.c
  conv_wino__avx512bf16.c)
toon_library(toon_nn nn
  conv.c
  conv_dnnl.c
  conv_registry.c
  conv_span.c
  conv_wino.c
  fnn.c
  generator.c
  model.c
  ops.c
  tfnet.c
  ${toon_nn_avx2_sources}
  ${toon_nn_avx512_sources}
  ${toon_nn_avx512bf16_sources})
target_include_directories(toon_nn PRIVATE ${DNNL_INCLUDE})
target_link_libraries(toon_nn PUBLIC toon_core toon_formats PRIVATE ${DNNL_LIB})

list(TRANSFORM toon_nn_avx2_sources PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
list(TRANSFORM toon_nn_avx512_sources PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
list(TRANSFORM toon_nn_avx512bf16_sources PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
set_source_files_properties(${toon_nn_avx2_sources} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
set_source_files_properties(
  ${toon_nn_avx512_sources} PROPERTIES COMPILE_OPTIONS
                                       "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mfma;-mavx2")
set_source_files_properties(
  ${toon_nn_avx512bf16_sources}
  PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512bf16;-mfma;-mavx2")
# The small nets' kernels are plain C loops written for the vectoriser, so they get -O3 in
# optimised builds.
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/fnn.c ${CMAKE_CURRENT_LIST_DIR}/tfnet.c
                            PROPERTIES COMPILE_OPTIONS $<$<NOT:$<CONFIG:Debug>>:-O3>)
