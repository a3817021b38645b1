# The promise service's pure parts (services/promise): one promise's deadlines, allocation,
# decisions and stored form.
pl_add_test(NAME test_promise_ledger SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_promise_ledger.c
            LIBS promise_core LABELS unit)
