# The scrub service as processes (services/scrub), against a real Redis, with small real bus
# receivers standing in for the dialer and the audit; the intake too when a test needs it, and
# plateauctl as the operator runs it.
foreach(name intake optout_replicas consent bus dialcheck lists regions retention ctl)
  pl_add_test(NAME test_scrub_${name} SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_scrub_${name}.c
              LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 180)
  add_dependencies(test_scrub_${name} plateau-scrub plateau-intake plateauctl)
endforeach()
