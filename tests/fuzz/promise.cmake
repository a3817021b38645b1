# libFuzzer targets (pl_fuzz, tests/CMakeLists.txt) of the promise service: the payment bodies of
# POST /v1/payments and POST /v1/payments/batch.
pl_fuzz(promise_payments LIBS promise_svc)
