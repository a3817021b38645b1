# Unit tests of the kit's pure parts (no Redis, no sockets).
pl_add_test(NAME test_kit_basics SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_kit_basics.c
            LIBS plateau LABELS unit)

# The one RFC 3339 parser and civil-date conversion (pl_base, linked by the kit and the rules).
pl_add_test(NAME test_kit_timefmt SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_kit_timefmt.c
            LIBS pl_base LABELS unit)
# The one UTF-8 validator (pl_base, linked by the kit and the phone library).
pl_add_test(NAME test_kit_utf8 SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_kit_utf8.c
            LIBS pl_base LABELS unit)
# The kit's HTTP client, against the kit's HTTP server on 127.0.0.1.
pl_add_test(NAME test_http_client SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_http_client.c
            LIBS plateau LABELS unit)
