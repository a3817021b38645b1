# The intake service as a process (services/intake), against a real Redis, with small real bus
# receivers standing in for scrub and audit.
pl_add_test(NAME test_intake_http SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_intake_http.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 120)
add_dependencies(test_intake_http plateau-intake)
pl_add_test(NAME test_intake_redis SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_intake_redis.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 120)
add_dependencies(test_intake_redis plateau-intake)
# The CRM export presets (tests/data/crm, docs/crm.md): each sample imported whole, then all
# duplicates; ?mapping= naming a preset; countries named in French.
pl_add_test(NAME test_intake_crm SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_intake_crm.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 120)
add_dependencies(test_intake_crm plateau-intake)
# A million-row CSV under 200 MB of service memory: minutes, so label `long`, outside make test.
#   make test-long   (ctest --test-dir build -L long --output-on-failure; PL_LONG_ROWS=n for fewer)
pl_add_test(NAME test_intake_long SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_intake_long.c
            LIBS plateau PkgConfig::JANSSON Threads::Threads LABELS long TIMEOUT 1800)
add_dependencies(test_intake_long plateau-intake)
# Killed again and again under load: every lead stored, delivered and audited once (ADR 0006).
pl_add_test(NAME test_intake_crash SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_intake_crash.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 300)
add_dependencies(test_intake_crash plateau-intake)
# The evidence of its audit events: tenant and call kind from the campaign files, the rejected
# item's CRM id and rules; a campaign file without its tenant stops the service.
pl_add_test(NAME test_intake_audit SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_intake_audit.c
            LIBS plateau LABELS integration TIMEOUT 120)
add_dependencies(test_intake_audit plateau-intake)
