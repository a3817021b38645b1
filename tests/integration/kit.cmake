# Integration tests of the kit: real redis-server, real ZeroMQ sockets, real processes.
add_executable(bus_probe ${PROJECT_SOURCE_DIR}/tests/integration/bus_probe.c)
target_link_libraries(bus_probe PRIVATE plateau)

foreach(t redis outbox_inbox bus bus_curve)
  pl_add_test(NAME test_${t} SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_${t}.c
              LIBS plateau LABELS integration)
endforeach()
pl_add_test(NAME test_bus_crash SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/test_bus_crash.c
            LIBS plateau LABELS integration TIMEOUT 600)
add_dependencies(test_bus_crash bus_probe)
