# Attacks on scrub's doors (services/scrub), each against the service as a process with a
# private Redis: who may call each HTTP route and send each bus type, oversized bodies and
# batches, and input that can never be applied.
foreach(name http bus)
  pl_add_test(NAME test_sec_scrub_${name}
              SOURCES ${PROJECT_SOURCE_DIR}/tests/security/test_sec_scrub_${name}.c
              LIBS plateau PkgConfig::JANSSON Threads::Threads LABELS integration security TIMEOUT 300)
  target_include_directories(test_sec_scrub_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
  add_dependencies(test_sec_scrub_${name} plateau-scrub)
endforeach()
