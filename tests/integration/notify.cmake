# The notify service as a process: a real plateau-audit fed AuditEvents over the bus, a private
# Redis, and a webhook receiver in the test process that verifies every signature.
pl_add_test(NAME test_notify SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_notify.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 180)
add_dependencies(test_notify plateau-notify plateau-audit plateauctl)
