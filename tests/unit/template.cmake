# The template service's modules (services/template), driven without the service loop.
pl_add_test(NAME test_template_counter SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_template_counter.c
            LIBS template_core LABELS unit)
