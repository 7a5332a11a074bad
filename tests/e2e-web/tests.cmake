# Page tests in a real browser (Debian's chromium driven by playwright-core; see
# tools/setup-web-tests.sh).  Screenshots of each flow go to build/test-artifacts/.
find_program(TOON_NODE node)
if(TOON_NODE)
  add_test(NAME test_web_page
           COMMAND ${TOON_NODE} ${CMAKE_CURRENT_LIST_DIR}/test_web.js $<TARGET_FILE:toonify>
                   ${TOON_SHARED_DIR} ${CMAKE_CURRENT_BINARY_DIR}/web-page
                   ${CMAKE_BINARY_DIR}/test-artifacts)
  set_tests_properties(test_web_page PROPERTIES LABELS "e2e;web" TIMEOUT 900)
elseif(DEFINED ENV{CI})
  message(FATAL_ERROR "the page tests need node (tools/install-deps.sh)")
endif()
