# `cmake --install` into a temporary prefix: the layout, the man page, a C program built with
# `pkg-config --cflags --libs toonify` (shared) and against libtoonify.a (static), and the
# installed binary finding PREFIX/share/toonify/models (~20 s).
add_test(NAME test_install
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_install.sh ${CMAKE_BINARY_DIR}
                 ${CMAKE_CURRENT_LIST_DIR}/use_toonify.c ${TOON_SHARED_DIR}
                 ${CMAKE_CURRENT_BINARY_DIR}/install)
set_tests_properties(test_install PROPERTIES LABELS "e2e;install" TIMEOUT 300)
