# The dialer as a process (services/dialer), against a real Redis and real HTTP, with small real
# bus servers standing in for scrub and telephony, and plateauctl as the operator runs it.
pl_add_test(NAME test_dialer_api SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_dialer_api.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 180)
add_dependencies(test_dialer_api plateau-dialer plateauctl)
