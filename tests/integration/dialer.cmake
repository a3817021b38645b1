# The dialer as a process (services/dialer), against a real Redis and real HTTP, with small real
# bus servers standing in for scrub and telephony, and plateauctl as the operator runs it.
pl_add_test(NAME test_dialer_api SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_dialer_api.c
            LIBS plateau PkgConfig::JANSSON LABELS integration security TIMEOUT 180)
add_dependencies(test_dialer_api plateau-dialer plateauctl)

# Campaigns defined over the API, through the registry in a real Redis, into scrub's, the
# intake's and the dialer's campaigns.
pl_add_test(NAME test_campaign_registry SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_campaign_registry.c
            LIBS dialer_core scrub_svc intake_svc plateau LABELS integration)
target_compile_definitions(test_campaign_registry PRIVATE
  SCRUB_PROFILES_DEFAULT="${PROJECT_SOURCE_DIR}/lib/rules/profiles")
