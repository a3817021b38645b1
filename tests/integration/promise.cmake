# The promise service as a process (services/promise), against a real Redis, real HTTP and real
# bus sockets, with small bus servers standing in for the dialer and the audit.
pl_add_test(NAME test_promise SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_promise.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 240)
add_dependencies(test_promise plateau-promise plateauctl)
# The promise book in process: batches of payments against one at a time, races with bus ids.
pl_add_test(NAME test_promise_book SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_promise_book.c
            LIBS promise_svc PkgConfig::JANSSON Threads::Threads LABELS integration TIMEOUT 120)
