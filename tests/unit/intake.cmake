# The intake service's modules (services/intake): one lead, and the JSON, NDJSON and CSV decoders.
# The CSV tests read their files from tests/data/intake (through PL_SOURCE_DIR).
pl_add_test(NAME test_intake_lead SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_intake_lead.c
            LIBS intake_core LABELS unit)
pl_add_test(NAME test_intake_json SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_intake_json.c
            LIBS intake_core LABELS unit)
pl_add_test(NAME test_intake_ndjson SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_intake_ndjson.c
            LIBS intake_core LABELS unit)
pl_add_test(NAME test_intake_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_intake_csv.c
            LIBS intake_core LABELS unit)
