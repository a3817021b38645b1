# The telsim service's modules (services/telsim), driven without the service loop: the fate of a
# call and its rates, and the floor on a standing virtual clock.
pl_add_test(NAME test_telsim_fate SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_telsim_fate.c
            LIBS telsim_core LABELS unit)
pl_add_test(NAME test_telsim_floor SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_telsim_floor.c
            LIBS telsim_core LABELS unit)
