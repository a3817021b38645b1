# Audit service core (services/audit): records and chain, tamper detection, crash recovery,
# erasure, retention, queries, disk full. Each links audit_core and the shared test support.
set(PL_AUDIT_TEST_SUPPORT ${CMAKE_CURRENT_LIST_DIR}/test_audit_support.c)
foreach(t chain tamper recovery erasure retention query diskfull)
  pl_add_test(NAME test_audit_${t}
              SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_audit_${t}.c ${PL_AUDIT_TEST_SUPPORT}
              LIBS audit_core LABELS unit)
endforeach()
