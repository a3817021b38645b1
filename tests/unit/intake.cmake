# The intake service's modules (services/intake): one lead, and the JSON, NDJSON and CSV decoders.
foreach(t lead json ndjson csv)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_intake_${t}.c)
    pl_add_test(NAME test_intake_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_intake_${t}.c
                LIBS intake_core LABELS unit)
  endif()
endforeach()
