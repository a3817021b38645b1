# Unit tests of the kit's pure parts (no Redis, no sockets).
pl_add_test(NAME test_kit_basics SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_kit_basics.c
            LIBS plateau LABELS unit)
