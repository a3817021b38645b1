# Phone numbers and time zones (lib/phone).
pl_add_test(NAME test_phone SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_phone.c LIBS pl_phone LABELS unit)
# pl__phone_set_raw_only: the test compares the direct road with Parse().
target_include_directories(test_phone PRIVATE ${PROJECT_SOURCE_DIR}/lib/phone)
