# swb_add_cmocka_test(NAME SOURCE [LIBS ...] [LABELS ...])
# Builds one cmocka executable and registers each of its cases as its own CTest test, found
# by reading `cmocka_unit_test(test_...)` and `SWB_<WRAPPER>(test_...)` lines of the source,
# so a crash or hang in one case is isolated and CTest prints one line per behaviour.
function(swb_add_cmocka_test name src)
  cmake_parse_arguments(T "" "TIMEOUT" "LIBS;LABELS" ${ARGN})
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/proto
    ${CMAKE_SOURCE_DIR}/runtime/include)
  target_link_libraries(${name} PRIVATE swb_warnings PkgConfig::CMOCKA ${T_LIBS})
  file(STRINGS ${src} lines REGEX "(cmocka_unit_test[a-z_]*|SWB_[A-Z_]+)\\(test_")
  set(count 0)
  foreach(line ${lines})
    if(line MATCHES "^[ \t]*#")
      continue() # a macro definition, not a case
    endif()
    # clang-format may put several cases on one line: take every one.
    string(REGEX MATCHALL "(cmocka_unit_test[a-z_]*|SWB_[A-Z_]+)\\(test_[A-Za-z0-9_]+" calls "${line}")
    foreach(call ${calls})
      string(REGEX REPLACE ".*\\((test_[A-Za-z0-9_]+)" "\\1" case "${call}")
      add_test(NAME ${name}.${case} COMMAND ${name} ${case})
      set_tests_properties(${name}.${case} PROPERTIES LABELS "${T_LABELS}")
      if(T_TIMEOUT)
        set_tests_properties(${name}.${case} PROPERTIES TIMEOUT ${T_TIMEOUT})
      endif()
      math(EXPR count "${count}+1")
    endforeach()
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "${src}: no cmocka_unit_test(...) cases found")
  endif()
endfunction()
