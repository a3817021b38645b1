# The audit service as a process (services/audit): plateau-audit spawned against a private Redis,
# AuditEvents sent through a real bus client with its Redis outbox, plateauctl audit run on the
# data it wrote.
set(PL_AUDIT_SVC_DEPS plateau-audit plateauctl)
pl_add_test(NAME test_audit_service_kill SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_audit_service_kill.c
            LIBS pl_audit plateau PkgConfig::JANSSON LABELS integration TIMEOUT 300)
add_dependencies(test_audit_service_kill ${PL_AUDIT_SVC_DEPS})
pl_add_test(NAME test_audit_service_http SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_audit_service_http.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 120)
add_dependencies(test_audit_service_http ${PL_AUDIT_SVC_DEPS})
pl_add_test(NAME test_audit_service_diskfull SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_audit_service_diskfull.c
            LIBS pl_audit plateau PkgConfig::JANSSON LABELS integration TIMEOUT 180)
add_dependencies(test_audit_service_diskfull ${PL_AUDIT_SVC_DEPS})
# Issue 8, acceptance 3: an erased person's calls recomputed from an auditor's export, typed
# fields only (window in the callee's zone, attempts in the rolling window, lists and copies).
pl_add_test(NAME test_audit_service_evidence SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_audit_service_evidence.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 120)
add_dependencies(test_audit_service_evidence ${PL_AUDIT_SVC_DEPS})
# Two audit replicas on one Redis: an event id is stored once even when a retry reaches the
# other replica, or when a replica crashed between its claim and its write (ADR 0028).
pl_add_test(NAME test_audit_service_replicas SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_audit_service_replicas.c
            LIBS plateau PkgConfig::JANSSON LABELS integration TIMEOUT 120)
add_dependencies(test_audit_service_replicas ${PL_AUDIT_SVC_DEPS})
