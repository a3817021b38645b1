# Attacks on the intake's HTTP door (services/intake), each against the service as a process
# with a private Redis: bodies built to exhaust memory, idempotency keys after a crash or
# reused, storms of bad rows against the audit, and reads of another source's leads.
foreach(name memory idempotency audit_storm read_access signature)
  pl_add_test(NAME test_sec_intake_${name}
              SOURCES ${PROJECT_SOURCE_DIR}/tests/security/test_sec_intake_${name}.c
              LIBS plateau PkgConfig::JANSSON Threads::Threads LABELS integration security TIMEOUT 300)
  target_include_directories(test_sec_intake_${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
  add_dependencies(test_sec_intake_${name} plateau-intake)
endforeach()
