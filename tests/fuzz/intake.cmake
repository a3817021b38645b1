# libFuzzer targets of the intake (its decoders and the bus door's lead) and the phone shim (Fuzz
# build only: clang, -DCMAKE_BUILD_TYPE=Fuzz). Each runs briefly as a ctest labelled "fuzz", from
# its committed seeds (tests/fuzz/seeds/<name>) into a corpus in the build tree; `make fuzz` runs
# them longer.
set(PL_INTAKE_FUZZ_CORPUS ${PROJECT_BINARY_DIR}/corpus)
set(PL_INTAKE_FUZZ_ARTIFACTS ${PROJECT_BINARY_DIR}/fuzz-artifacts)
file(MAKE_DIRECTORY ${PL_INTAKE_FUZZ_ARTIFACTS})

function(pl_intake_fuzz name)
  cmake_parse_arguments(F "" "" "LIBS;INCLUDES" ${ARGN})
  add_executable(fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${name}.c)
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  target_include_directories(fuzz_${name} PRIVATE ${F_INCLUDES})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  file(MAKE_DIRECTORY ${PL_INTAKE_FUZZ_CORPUS}/fuzz_${name})
  add_test(NAME fuzz_${name}
    COMMAND fuzz_${name} -max_total_time=20 -timeout=10 -rss_limit_mb=2048
            -artifact_prefix=${PL_INTAKE_FUZZ_ARTIFACTS}/fuzz_${name}-
            ${PL_INTAKE_FUZZ_CORPUS}/fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/seeds/${name})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 120
    ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
endfunction()

pl_intake_fuzz(phone LIBS pl_phone INCLUDES ${PROJECT_SOURCE_DIR}/lib/phone)
pl_intake_fuzz(json LIBS intake_core)
pl_intake_fuzz(ndjson LIBS intake_core)
pl_intake_fuzz(csv LIBS intake_core)
pl_intake_fuzz(lead_pb LIBS intake_core)
