# libFuzzer targets (pl_fuzz, tests/CMakeLists.txt) of the scrub service: every decoder it has —
# the registry list loader, the body of POST /v1/scrub, the bus door's LeadSubmitted,
# ScrubRequest, DialCheck and OptOutRequest, the opt-out and consent bodies and stored consents.
pl_fuzz(scrub_list LIBS scrub_lists)
pl_fuzz(scrub_request LIBS scrub_svc)
pl_fuzz(scrub_bus LIBS scrub_svc)
pl_fuzz(scrub_consent LIBS scrub_svc)
