# libFuzzer target (pl_fuzz, tests/CMakeLists.txt) of the notify service: what it reads from
# outside — subscription URLs, receivers' Retry-After, the audit export's records.
pl_fuzz(notify LIBS notify_core)
