# Service kit: configuration, metrics, the ops port and the HTTP server layer.
pl_add_test(NAME test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config.c LIBS plateau LABELS unit)
pl_add_test(NAME test_metrics SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_metrics.c LIBS plateau LABELS unit)
pl_add_test(NAME test_ops SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ops.c LIBS plateau LABELS unit)
pl_add_test(NAME test_http SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_http.c LIBS plateau LABELS unit)
