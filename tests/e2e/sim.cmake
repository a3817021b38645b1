# The compliance simulation in small (scripts/sim.sh --chaos): a generated day of three campaigns
# through intake, scrub, two dialer replicas, telsim, the promise service and the audit on a
# virtual clock at 1000×, every plateau service and telsim SIGKILLed in turn and started again,
# judged by the independent checker (tools/checker). The full fortnight of 100,000 leads is `make sim`, the
# long chaos run `make chaos`, on demand.
add_test(NAME test_e2e_sim COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/test_e2e_sim.sh)
set_tests_properties(test_e2e_sim PROPERTIES LABELS sim TIMEOUT 900 RUN_SERIAL TRUE
  ENVIRONMENT "PL_SOURCE_DIR=${PROJECT_SOURCE_DIR};PL_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
