# libFuzzer targets (pl_fuzz, tests/CMakeLists.txt) of the intake — its decoders and the bus
# door's lead — and of the phone shim.
pl_fuzz(phone LIBS pl_phone INCLUDES ${PROJECT_SOURCE_DIR}/lib/phone)
pl_fuzz(json LIBS intake_core)
pl_fuzz(ndjson LIBS intake_core)
pl_fuzz(csv LIBS intake_core)
pl_fuzz(lead_pb LIBS intake_core)
