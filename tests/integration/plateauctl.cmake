# plateauctl as a process, against a real Redis and running plateau-template services.
pl_add_test(NAME test_plateauctl SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_plateauctl.c
            LIBS plateau LABELS integration)
add_dependencies(test_plateauctl plateauctl plateau-template)
