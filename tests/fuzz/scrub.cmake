# libFuzzer targets of the scrub service (Fuzz build only: clang, -DCMAKE_BUILD_TYPE=Fuzz): every
# decoder it has — the registry list loader, the body of POST /v1/scrub, the bus door's
# LeadSubmitted and ScrubRequest, the opt-out and consent bodies and stored consents. Each runs
# briefly as a ctest labelled "fuzz", from its committed seeds (tests/fuzz/seeds/<name>) into a
# corpus in the build tree; `make fuzz` runs them longer.
set(PL_SCRUB_FUZZ_CORPUS ${PROJECT_BINARY_DIR}/corpus)
set(PL_SCRUB_FUZZ_ARTIFACTS ${PROJECT_BINARY_DIR}/fuzz-artifacts)
file(MAKE_DIRECTORY ${PL_SCRUB_FUZZ_ARTIFACTS})

function(pl_scrub_fuzz name)
  cmake_parse_arguments(F "" "" "LIBS" ${ARGN})
  add_executable(fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${name}.c)
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  file(MAKE_DIRECTORY ${PL_SCRUB_FUZZ_CORPUS}/fuzz_${name})
  add_test(NAME fuzz_${name}
    COMMAND fuzz_${name} -max_total_time=20 -timeout=10 -rss_limit_mb=2048
            -artifact_prefix=${PL_SCRUB_FUZZ_ARTIFACTS}/fuzz_${name}-
            ${PL_SCRUB_FUZZ_CORPUS}/fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/seeds/${name})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 120
    ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
endfunction()

pl_scrub_fuzz(scrub_list LIBS scrub_lists)
pl_scrub_fuzz(scrub_request LIBS scrub_svc)
pl_scrub_fuzz(scrub_bus LIBS scrub_svc)
pl_scrub_fuzz(scrub_consent LIBS scrub_svc)
