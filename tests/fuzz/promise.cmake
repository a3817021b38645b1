# libFuzzer targets (pl_fuzz, tests/CMakeLists.txt) of the promise service: the bodies of
# POST /v1/promises, POST /v1/payments and POST /v1/payments/batch.
pl_fuzz(promise_body LIBS promise_svc)
