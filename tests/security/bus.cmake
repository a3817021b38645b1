# Attacks on the bus doors: forged senders, keys and dates against real services on CURVE.
pl_add_test(NAME test_sec_bus_audit SOURCES ${PROJECT_SOURCE_DIR}/tests/security/test_sec_bus_audit.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 180)
add_dependencies(test_sec_bus_audit plateau-audit plateauctl)
pl_add_test(NAME test_sec_bus_intake SOURCES ${PROJECT_SOURCE_DIR}/tests/security/test_sec_bus_intake.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 120)
add_dependencies(test_sec_bus_intake plateau-intake)
pl_add_test(NAME test_sec_dead_letters SOURCES ${PROJECT_SOURCE_DIR}/tests/security/test_sec_dead_letters.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 120)
add_dependencies(test_sec_dead_letters plateau-audit)
pl_add_test(NAME test_sec_metrics SOURCES ${PROJECT_SOURCE_DIR}/tests/security/test_sec_metrics.c
            LIBS plateau LABELS unit security)
