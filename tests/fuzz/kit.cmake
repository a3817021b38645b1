# libFuzzer target of the kit (pl_fuzz, tests/CMakeLists.txt): the envelope decoder every bus
# message goes through.
pl_fuzz(envelope LIBS plateau)
