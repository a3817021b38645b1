# Attacks on the kit's HTTP server (lib/kit/http.c): memory exhaustion, connection floods,
# replayed signatures.
foreach(t budget flood signature)
  pl_add_test(NAME test_sec_http_${t}
              SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sec_http_${t}.c
              LIBS plateau LABELS integration security TIMEOUT 120)
endforeach()
