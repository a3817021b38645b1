# The telsim service as a process (services/telsim), against a real Redis and a real bus, on a
# running virtual clock, with a bus server standing in for the dialer.
pl_add_test(NAME test_telsim SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_telsim.c
            LIBS plateau LABELS integration TIMEOUT 180)
add_dependencies(test_telsim plateau-telsim)
