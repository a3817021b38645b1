# The audit end to end: plateauctl leads submit → plateau-intake → plateau-audit, then
# plateauctl audit why / verify through the audit's HTTP API.
pl_add_test(NAME test_e2e_audit SOURCES ${PROJECT_SOURCE_DIR}/tests/e2e/test_e2e_audit.c
            LIBS plateau PkgConfig::JANSSON LABELS e2e TIMEOUT 120)
target_include_directories(test_e2e_audit PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
add_dependencies(test_e2e_audit plateau-audit plateau-intake plateauctl)
