# Helpers shared by every module's CMakeLists.txt.

# cairn_module(NAME SOURCES... [DEPS targets...]) defines the static library cairn_<NAME>
# with includes rooted at src/.
function(cairn_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(cairn_${name} STATIC ${ARG_SOURCES})
  target_include_directories(cairn_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  if(ARG_DEPS)
    target_link_libraries(cairn_${name} PUBLIC ${ARG_DEPS})
  endif()
endfunction()

# cairn_test(NAME SOURCES... [DEPS targets...] [LABELS l...]) defines one GoogleTest binary
# <NAME>_test registered with ctest under the given labels (default: unit).
function(cairn_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name}_test ${ARG_SOURCES})
  target_link_libraries(${name}_test PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name}_test PRIVATE
    CAIRN_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    CAIRN_SHARED_DATA_DIR="${CMAKE_SOURCE_DIR}/../shared/data")
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_test(NAME ${name}_test COMMAND ${name}_test)
  set_tests_properties(${name}_test PROPERTIES LABELS "${ARG_LABELS}"
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endfunction()
