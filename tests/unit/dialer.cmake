# The dialer's pure parts (services/dialer): pacing arithmetic under the abandon budget, and
# campaign files read with the repository's jurisdiction profiles.
pl_add_test(NAME test_dialer_pacing SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dialer_pacing.c
            LIBS dialer_core LABELS unit)
pl_add_test(NAME test_dialer_campaign SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dialer_campaign.c
            LIBS dialer_core LABELS unit)
target_compile_definitions(test_dialer_campaign PRIVATE
  DIALER_CAMPAIGNS_EXAMPLES="${PROJECT_SOURCE_DIR}/services/dialer/campaigns")
