# The OpenAPI document of every HTTP API (docs/api/openapi.json): valid OpenAPI 3.1 by a real
# validator (@seriousme/openapi-schema-validator, pinned by deploy/validate/package-lock.json,
# installed by scripts/deps.sh: missing, the test fails, never skips), and the project's
# conventions (tests/unit/test_openapi_document.mjs). Whether the services register exactly the
# documented routes is test_openapi_routes (tests/integration/test_openapi.cmake).
add_test(NAME test_openapi_document COMMAND node ${PROJECT_SOURCE_DIR}/tests/unit/test_openapi_document.mjs)
set_tests_properties(test_openapi_document PROPERTIES LABELS unit TIMEOUT 60
  ENVIRONMENT "PL_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
# The kit's side: every pl_http_t serves the compiled-in document at GET /v1/openapi.json.
pl_add_test(NAME test_openapi_kit SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_openapi_kit.c
            LIBS plateau PkgConfig::JANSSON LABELS unit)
