# Integration tests of the kit: real redis-server, real ZeroMQ sockets, real processes.
add_executable(bus_probe ${PROJECT_SOURCE_DIR}/tests/integration/bus_probe.c)
target_link_libraries(bus_probe PRIVATE plateau)

foreach(t redis outbox_inbox bus bus_replicas service_replica service_clock)
  pl_add_test(NAME test_${t} SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_${t}.c
              LIBS plateau LABELS integration)
endforeach()
# A master, a replica and three sentinels: the kit follows a failover (about 10 s).
pl_add_test(NAME test_redis_sentinel SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_redis_sentinel.c
            LIBS plateau LABELS integration TIMEOUT 120)
# Three masters of one Redis Cluster: slot routing, MOVED and ASK, scripts, a restart.
pl_add_test(NAME test_redis_cluster SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_redis_cluster.c
            LIBS plateau LABELS integration TIMEOUT 180)
pl_add_test(NAME test_bus_curve SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_bus_curve.c
            LIBS plateau LABELS integration security TIMEOUT 120)
pl_add_test(NAME test_bus_crash SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_bus_crash.c
            LIBS plateau LABELS integration TIMEOUT 600)
add_dependencies(test_bus_crash bus_probe)
pl_add_test(NAME test_http_slow_clients
            SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_http_slow_clients.c
            LIBS plateau LABELS integration security TIMEOUT 180)

# libplateau installs with headers and pkg-config, and a service builds against the install.
string(TOUPPER "${CMAKE_BUILD_TYPE}" PL_BUILD_TYPE_UPPER)
add_test(NAME install_check COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/install_check.sh
         ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} "${CMAKE_C_FLAGS_${PL_BUILD_TYPE_UPPER}}")
set_tests_properties(install_check PROPERTIES LABELS integration TIMEOUT 300)
