# The audit library (lib/audit): records and chain, tamper detection, crash recovery, erasure,
# retention, queries, disk full. Each links pl_audit and the shared test support; they may read
# the library's internal headers (the encoder, checkpoints, local time).
set(PL_AUDIT_TEST_SUPPORT ${CMAKE_CURRENT_LIST_DIR}/test_audit_support.c)
foreach(t chain tamper recovery erasure retention query diskfull evidence)
  pl_add_test(NAME test_audit_${t}
              SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_audit_${t}.c ${PL_AUDIT_TEST_SUPPORT}
              LIBS pl_audit LABELS unit)
  target_include_directories(test_audit_${t} PRIVATE ${PROJECT_SOURCE_DIR}/lib/audit)
endforeach()
