# The notify service's rules and payloads (services/notify), without Redis or sockets.
pl_add_test(NAME test_notify_policy SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_notify_policy.c
            LIBS notify_core LABELS unit)
