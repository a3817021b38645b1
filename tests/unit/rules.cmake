# The compliance rules engine (lib/rules): time zones, holidays, profiles, campaigns, the
# per-jurisdiction edge tables, explanations and the property test. PL_PROPERTY_CASES raises
# the property test's case count (see docs/rules.md).
# test_rules_us also links pl_phone: it takes the number's state from its area code, as intake
# does.
foreach(t tz holidays profile campaign fr us uk explain property)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_rules_${t}.c)
    set(libs pl_rules)
    if(t STREQUAL "us")
      list(APPEND libs pl_phone)
    endif()
    pl_add_test(NAME test_rules_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rules_${t}.c
                LIBS ${libs} LABELS unit)
  endif()
endforeach()
