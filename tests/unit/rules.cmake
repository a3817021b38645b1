# The compliance rules engine (lib/rules): time zones, holidays, profiles, campaigns, the
# per-jurisdiction edge tables, explanations and the property test. PL_PROPERTY_CASES raises
# the property test's case count (see docs/rules.md).
foreach(t tz holidays profile campaign fr us uk explain property)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_rules_${t}.c)
    pl_add_test(NAME test_rules_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rules_${t}.c
                LIBS pl_rules LABELS unit)
  endif()
endforeach()
