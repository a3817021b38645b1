# The intake end to end through its HTTP door: plateauctl leads submit → plateau-intake → Redis,
# with real bus receivers standing in for scrub and audit.
pl_add_test(NAME test_e2e_intake SOURCES ${PROJECT_SOURCE_DIR}/tests/e2e/test_e2e_intake.c
            LIBS plateau PkgConfig::JANSSON LABELS e2e TIMEOUT 120)
target_include_directories(test_e2e_intake PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
add_dependencies(test_e2e_intake plateau-intake plateauctl)
