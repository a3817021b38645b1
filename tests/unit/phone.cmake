# Phone numbers and time zones (lib/phone).
pl_add_test(NAME test_phone SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_phone.c LIBS pl_phone LABELS unit)
