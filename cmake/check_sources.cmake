# Fails when a .c file under TOON_SRC_DIR is in no source list: a forgotten file must not drop
# out of the build silently.  Included at configure time by toon_check_source_lists (with
# TOON_LISTED_SOURCES set from the targets), or run as a script with the list in a file:
#   cmake -DTOON_SRC_DIR=src -DTOON_LISTED_FILE=build/toon_sources.txt -P check_sources.cmake
cmake_policy(SET CMP0057 NEW) # if(IN_LIST), when run as a script
if(DEFINED TOON_LISTED_FILE)
  file(STRINGS ${TOON_LISTED_FILE} TOON_LISTED_SOURCES)
endif()
if(CMAKE_SCRIPT_MODE_FILE)
  file(GLOB_RECURSE toon_found_sources ${TOON_SRC_DIR}/*.c)
else() # a new file under src/ configures again
  file(GLOB_RECURSE toon_found_sources CONFIGURE_DEPENDS ${TOON_SRC_DIR}/*.c)
endif()
set(toon_unlisted "")
foreach(file ${toon_found_sources})
  if(NOT file IN_LIST TOON_LISTED_SOURCES)
    file(RELATIVE_PATH rel ${TOON_SRC_DIR} ${file})
    list(APPEND toon_unlisted "src/${rel}")
  endif()
endforeach()
if(toon_unlisted)
  list(JOIN toon_unlisted "\n  " text)
  message(FATAL_ERROR "source files in no list (add each to its folder's build.cmake):\n  ${text}")
endif()
