# The scrub service's lists (services/scrub): the compact number set, every registry format from
# its sample in tests/data/scrub (through PL_SOURCE_DIR), change lists, wildcard blocks, rnd
# dates, the shared file, and swaps under four reader threads.
pl_add_test(NAME test_scrub_numset SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scrub_numset.c
            LIBS scrub_lists LABELS unit)
pl_add_test(NAME test_scrub_formats SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scrub_formats.c
            LIBS scrub_lists LABELS unit)
pl_add_test(NAME test_scrub_versions SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scrub_versions.c
            LIBS scrub_lists LABELS unit)
pl_add_test(NAME test_scrub_swap SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scrub_swap.c
            LIBS scrub_lists LABELS unit)
# What the service reads of a request before it acts: the HTTP bodies and the bus door's lead.
pl_add_test(NAME test_scrub_body SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scrub_body.c
            LIBS scrub_svc LABELS unit)
# The dialer's DialCheck and OptOutRequest as scrub reads them before judging or recording.
pl_add_test(NAME test_scrub_dial SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_scrub_dial.c
            LIBS scrub_svc LABELS unit)
