# Scrub end to end: a CRM file → plateau-intake → plateau-scrub, both auditing to a real
# plateau-audit; the lead's verdict through the intake's API and its story through
# plateauctl audit why / verify.
pl_add_test(NAME test_e2e_scrub SOURCES ${PROJECT_SOURCE_DIR}/tests/e2e/test_e2e_scrub.c
            LIBS plateau PkgConfig::JANSSON LABELS e2e TIMEOUT 180)
target_include_directories(test_e2e_scrub PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
add_dependencies(test_e2e_scrub plateau-audit plateau-intake plateau-scrub plateauctl)
