# The contract against the code: the whole stack started (scripts/stack.sh, every built service,
# a private Redis, a temporary run directory), each server's GET /v1/openapi.json read for the
# routes it registered, compared both ways with docs/api/openapi.json
# (tests/integration/test_openapi_routes.mjs). Runs on the binaries of this build tree.
add_test(NAME test_openapi_routes COMMAND node ${PROJECT_SOURCE_DIR}/tests/integration/test_openapi_routes.mjs)
set_tests_properties(test_openapi_routes PROPERTIES LABELS integration TIMEOUT 240
  ENVIRONMENT "PL_SOURCE_DIR=${PROJECT_SOURCE_DIR};PL_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
