/*  test_sec_dead_letters.c — dead letters once were kept for ever with whole envelopes, numbers
 *  included, out of erasure's reach. Now each is kept for a TTL and then purged, its keys
 *  expire after the last one, and a person's erasure at the audit deletes every dead letter
 *  that mentions the number — in any text field, at any depth — of any owner and destination.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>
#include "plateau/outbox.h"
#include "pl_test.h"
#include "pl_test_http.h"
#include "../integration/test_audit_service_fixture.h"

#define NUMBER "+33698765432"

/* Stores a LeadSubmitted about `e164` in outbox and moves it to the dead letters (through the
 * hash or through a slot). */
static void
s_dead_lead (pl_outbox_t *outbox, const char *e164, bool slot)
{
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "intake", NULL, NULL);
    Plateau__V1__LeadSubmitted ls = PLATEAU__V1__LEAD_SUBMITTED__INIT;
    Plateau__V1__Lead lead = PLATEAU__V1__LEAD__INIT;
    Plateau__V1__PhoneNumber ph = PLATEAU__V1__PHONE_NUMBER__INIT;
    ph.e164 = (char *) e164;
    lead.phone = &ph;
    lead.campaign = "c";
    ls.lead = &lead;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
    env.lead_submitted = &ls;
    size_t len;
    uint8_t *buf = pl_envelope_pack (&env, &len);
    assert_non_null (buf);
    if (slot) {
        pl_outbox_item_t it = { .id = ids.id, .type = env.type, .data = buf, .size = len, .sid = "1-1" };
        assert_int_equal (pl_outbox_slot_dead (outbox, "t", &it, "INVALID: test"), 0);
    }
    else {
        const char *idp = ids.id, *tp = env.type;
        const uint8_t *dp = buf;
        assert_int_equal (pl_outbox_put (outbox, 1, &idp, &tp, &dp, &len), 0);
        assert_int_equal (pl_outbox_dead (outbox, ids.id, "INVALID: test"), 0);
    }
    free (buf);
}

static void
test_dead_letters_age_out (void **state)
{
    (void) state;
    pl_test_redis_t *srv = pl_test_redis_start (NULL);
    assert_non_null (srv);
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (srv), 2000);
    pl_outbox_t *ob = pl_outbox_new (redis, "intake-0", "scrub");
    pl_outbox_set_dead_ttl (ob, 1500);
    s_dead_lead (ob, NUMBER, false);
    s_dead_lead (ob, "+33611111111", true);
    assert_int_equal (pl_outbox_dead_size (ob), 2);
    /* The keys themselves expire after the last dead letter. */
    long long pttl = pl_test_redis_int (srv, "PTTL %s", "pl:{ob:intake-0:scrub}:dead");
    assert_true (pttl > 0 && pttl <= 1500);
    assert_int_equal (pl_outbox_dead_purge (ob), 0);      /* not yet */
    usleep (1000 * 1000);
    s_dead_lead (ob, "+33622222222", false);              /* keeps the keys for 1.5 s more */
    usleep (700 * 1000);
    assert_int_equal (pl_outbox_dead_purge (ob), 2);      /* each letter has its own age */
    assert_int_equal (pl_outbox_dead_size (ob), 1);
    usleep (1900 * 1000);                                 /* an owner gone quiet leaves nothing */
    assert_int_equal (pl_outbox_dead_size (ob), 0);
    assert_int_equal (pl_test_redis_int (srv, "EXISTS %s", "pl:{ob:intake-0:scrub}:dead:at"), 0);
    pl_outbox_destroy (&ob);
    pl_redis_destroy (&redis);
    pl_test_redis_stop (&srv);
}

static void
test_erasure_reaches_every_dead_letter_that_mentions_the_number (void **state)
{
    (void) state;
    ax_t *f = ax_new ();
    assert_non_null (f);
    assert_true (ax_start (f, NULL) > 0);
    pl_outbox_t *a = pl_outbox_new (f->redis, "intake-0", "scrub");
    pl_outbox_t *b = pl_outbox_new (f->redis, "dialer-3", "audit");
    s_dead_lead (a, NUMBER, false);
    s_dead_lead (a, NUMBER, true);
    s_dead_lead (a, "+33611111111", false);
    s_dead_lead (b, NUMBER, true);
    assert_int_equal (pl_outbox_dead_size (a), 3);

    const char *body = "{\"number\":\"" NUMBER "\",\"request_id\":\"gdpr-17\"}";
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/audit/erasure",
                                            "Authorization: Bearer " AX_TOKEN "\r\n"
                                            "Content-Type: application/json\r\n",
                                            body, strlen (body), &resp), 200);
    json_t *j = json_loads (resp.body, 0, NULL);
    assert_int_equal (json_integer_value (json_object_get (j, "dead_letters")), 3);
    json_decref (j);
    pl_test_http_resp_free (&resp);
    assert_int_equal (pl_outbox_dead_size (a), 1);        /* only the other person's */
    assert_int_equal (pl_outbox_dead_size (b), 0);

    /* Again: nothing more to erase, and no error. */
    size_t n = 99;
    assert_int_equal (pl_outbox_dead_erase (f->redis, NUMBER, &n), 0);
    assert_int_equal (n, 0);
    pl_outbox_destroy (&a);
    pl_outbox_destroy (&b);
    ax_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_dead_letters_age_out),
        cmocka_unit_test (test_erasure_reaches_every_dead_letter_that_mentions_the_number),
    };
    return cmocka_run_group_tests_name ("sec_dead_letters", tests, NULL, NULL);
}
