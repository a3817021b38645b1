# The Kubernetes manifests (deploy/): every kustomization rendered by kubectl and validated
# offline against the Kubernetes schemas and the Prometheus Operator CRDs (deploy_manifests),
# held to what the services' sources read, listen on and send to (deploy_consistency), that
# check shown to catch known breakages (deploy_consistency_self_test), and the YAML linted
# (deploy_yamllint); and `plateauctl keys` making, rotating and retiring the credentials those
# manifests mount (deploy_credentials). Label `deploy`, run by scripts/test.sh. kubectl, node, the pinned npm
# packages and yamllint come from scripts/deps.sh: a missing one fails these tests, never skips.
set(PL_DEPLOY_TESTS deploy_manifests deploy_consistency deploy_consistency_self_test deploy_yamllint)
add_test(NAME deploy_manifests COMMAND node ${PROJECT_SOURCE_DIR}/deploy/validate/validate.js)
add_test(NAME deploy_consistency COMMAND node ${PROJECT_SOURCE_DIR}/deploy/validate/consistency.js)
add_test(NAME deploy_consistency_self_test
         COMMAND node ${PROJECT_SOURCE_DIR}/deploy/validate/consistency.js --self-test)
add_test(NAME deploy_credentials COMMAND node ${PROJECT_SOURCE_DIR}/deploy/validate/credentials.js)
set_tests_properties(deploy_credentials PROPERTIES LABELS deploy TIMEOUT 120
  ENVIRONMENT "PL_SOURCE_DIR=${PROJECT_SOURCE_DIR};PL_PLATEAUCTL=$<TARGET_FILE:plateauctl>")
add_test(NAME deploy_yamllint COMMAND yamllint --strict .
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/deploy)
set_tests_properties(${PL_DEPLOY_TESTS} PROPERTIES LABELS deploy TIMEOUT 120
  ENVIRONMENT "PL_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
