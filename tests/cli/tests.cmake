add_test(NAME test_cli COMMAND env TOON_SANITIZED=$<BOOL:${TOON_SANITIZE}> bash ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh $<TARGET_FILE:toonify> ${TOON_SHARED_DIR} $<TARGET_FILE:make_pb> ${CMAKE_SOURCE_DIR}/models)
set_tests_properties(test_cli PROPERTIES LABELS e2e TIMEOUT 600)
