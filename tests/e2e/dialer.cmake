# The dialer end to end with a real scrub: a callback asked for 09:30 Paris on a French canvassing
# lead is deferred by the re-check to 10:00, and a do-not-call request stops every campaign of
# the tenant from calling the number. Telephony and the audit are small real bus receivers, so
# that the test answers calls exactly as it needs.
pl_add_test(NAME test_e2e_dialer SOURCES ${PROJECT_SOURCE_DIR}/tests/e2e/test_e2e_dialer.c
            LIBS plateau LABELS e2e TIMEOUT 180)
add_dependencies(test_e2e_dialer plateau-intake plateau-scrub plateau-dialer)
