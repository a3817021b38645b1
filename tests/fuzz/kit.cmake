# libFuzzer target of the kit: the envelope decoder every bus message goes through.
add_executable(fuzz_envelope ${CMAKE_CURRENT_LIST_DIR}/fuzz_envelope.c)
target_link_libraries(fuzz_envelope PRIVATE plateau)
target_link_options(fuzz_envelope PRIVATE -fsanitize=fuzzer)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/corpus/fuzz_envelope)
add_test(NAME fuzz_envelope
  COMMAND fuzz_envelope -max_total_time=20 -timeout=10 -rss_limit_mb=2048
          -artifact_prefix=${PROJECT_BINARY_DIR}/fuzz_envelope-
          ${PROJECT_BINARY_DIR}/corpus/fuzz_envelope ${CMAKE_CURRENT_LIST_DIR}/seeds/envelope)
set_tests_properties(fuzz_envelope PROPERTIES LABELS fuzz TIMEOUT 120)
