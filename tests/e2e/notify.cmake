# Webhooks end to end: leads through plateau-intake and plateau-scrub, a promise through
# plateau-promise, recorded by a real plateau-audit, followed by plateau-notify, delivered signed
# to a receiver in the test.
pl_add_test(NAME test_e2e_notify SOURCES ${PROJECT_SOURCE_DIR}/tests/e2e/test_e2e_notify.c
            LIBS plateau PkgConfig::JANSSON LABELS e2e TIMEOUT 180)
target_include_directories(test_e2e_notify PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
add_dependencies(test_e2e_notify plateau-audit plateau-intake plateau-scrub plateau-promise plateau-notify
                 plateauctl)
