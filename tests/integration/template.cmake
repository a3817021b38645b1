# The template service, run as a process against a real Redis.
pl_add_test(NAME test_template SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_template.c
            LIBS plateau LABELS integration)
add_dependencies(test_template plateau-template)
