/*  test_bus_curve.c — the bus door's identities and rules, attacked at the kit level: only keys of
 *  the key list get in, each named by its identity (never by a field it chose); a type is taken
 *  only from the identities allowed to send it; envelopes far outside the clock are refused; a
 *  key removed from the list is refused from its next connection, and a rotated server key is
 *  picked up by clients without a restart; while a server's key is switched both of its keys are
 *  admitted, one connection per instance finding the key that instance holds. Every refusal is
 *  counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "pl_test.h"
#include "bus_helpers.h"
#include "plateau/error.h"

enum { K_SERVER, K_GOOD, K_OTHER, K_STRANGER, K_SERVER2, NKEYS };
static const char *const s_names[NKEYS] = { "secure", "intake", "crm", "stranger", "secure2" };

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    pl_clock_t *clock;
    char *dir;
    char endpoint[64];
    char pub[NKEYS][512], key[NKEYS][512];
    char list[512];
    pl_bus_server_t *server;
    int seen;
    char sender[64];
} fx_t;

static void
s_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        f->seen++;
        const char *who = pl_bus_msg_sender (msgs[i]);
        snprintf (f->sender, sizeof f->sender, "%s", who ? who : "(null)");
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_read (const char *path, char *out, size_t size)
{
    FILE *in = fopen (path, "r");
    assert_non_null (in);
    assert_non_null (fgets (out, (int) size, in));
    out[strcspn (out, "\n")] = '\0';
    fclose (in);
}

/* Writes the key list with the given keys (indexes into s_names), each under its name; a
 * name override for the server's line lets a test rotate it. */
static void
s_write_list (fx_t *f, const int *which, size_t n)
{
    char tmp[600];
    snprintf (tmp, sizeof tmp, "%s.tmp", f->list);
    FILE *out = fopen (tmp, "w");
    fprintf (out, "# identity  public key\n");
    for (size_t i = 0; i < n; i++) {
        char pub[64];
        s_read (f->pub[which[i]], pub, sizeof pub);
        fprintf (out, "%s %s\n", which[i] == K_SERVER2 ? "secure" : s_names[which[i]], pub);
    }
    fclose (out);
    rename (tmp, f->list);
}

static pl_bus_options_t
s_opts (fx_t *f, int k)
{
    return (pl_bus_options_t) { .curve_secret_key_file = f->key[k], .keys_file = f->list,
                                .server_identity = "secure" };
}

/* Sends one AuditEvent as key k (or plaintext when k < 0); true when it was acked. The sent
 * envelope's sent_at_ms is moved by skew_ms. */
static bool
s_try (fx_t *f, int k, int64_t skew_ms, uint64_t *dead)
{
    char err[256];
    pl_bus_options_t o = k >= 0 ? s_opts (f, k) : (pl_bus_options_t) { 0 };
    char owner[32];
    snprintf (owner, sizeof owner, "owner-%d-%lld", k, (long long) skew_ms);
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, owner, "secure", f->endpoint,
                                            k >= 0 ? &o : NULL, err, sizeof err);
    assert_non_null (c);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, owner);
    env.source = "audit";                       /* a lie: the identity is what counts */
    env.sent_at_ms += skew_ms;
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    bool done = s_pump (f->server, c, 1500);
    if (dead)
        *dead = pl_bus_client_count (c, "dead");
    bool acked = done && pl_bus_client_count (c, "acked") == 1;
    pl_bus_client_destroy (&c);
    return acked;
}

static void
test_listed_keys_get_in_named_by_their_identity (void **state)
{
    fx_t *f = *state;
    assert_true (s_try (f, K_GOOD, 0, NULL));
    assert_int_equal (f->seen, 1);
    assert_string_equal (f->sender, "intake");
    assert_false (s_try (f, K_STRANGER, 0, NULL));      /* a key not in the list */
    assert_false (s_try (f, -1, 0, NULL));               /* plaintext */
    assert_int_equal (f->seen, 1);
    char last[512];
    pl_bus_server_last_refusal (f->server, last, sizeof last);
    assert_true (pl_bus_server_count (f->server, "refused_key") >= 1);
    assert_true (pl_bus_server_count (f->server, "refused_handshake") >= 1);
    assert_true (strlen (last) > 0);
}

static void
test_a_type_is_taken_only_from_allowed_identities (void **state)
{
    fx_t *f = *state;
    uint64_t dead = 0;
    assert_false (s_try (f, K_OTHER, 0, &dead));          /* crm may not send AuditEvent */
    assert_int_equal (dead, 1);                           /* permanent: a dead letter */
    assert_int_equal (f->seen, 0);
    assert_int_equal (pl_bus_server_count (f->server, "refused_forbidden"), 1);
    char last[512];
    pl_bus_server_last_refusal (f->server, last, sizeof last);
    assert_non_null (strstr (last, "crm may not send AuditEvent"));
    assert_int_equal (pl_bus_server_allow (f->server, "AuditEvent", "intake, crm"), 0);
    assert_true (s_try (f, K_OTHER, 0, NULL));
    assert_string_equal (f->sender, "crm");
    assert_int_equal (pl_bus_server_allow (f->server, "AuditEvent", "*"), 0);
    assert_true (s_try (f, K_OTHER, 0, NULL));
    assert_int_equal (pl_bus_server_allow (f->server, "AuditEvent", ""), 0);
    assert_false (s_try (f, K_GOOD, 0, NULL));
}

static void
test_envelopes_far_outside_the_clock_are_refused (void **state)
{
    fx_t *f = *state;
    uint64_t dead = 0;
    assert_false (s_try (f, K_GOOD, -8LL * 24 * 3600 * 1000, &dead));    /* 8 days old */
    assert_int_equal (dead, 1);
    assert_false (s_try (f, K_GOOD, 10 * 60 * 1000, &dead));            /* 10 min ahead */
    assert_int_equal (pl_bus_server_count (f->server, "refused_stale"), 2);
    assert_true (s_try (f, K_GOOD, -3600 * 1000, NULL));                /* an hour's backlog */
    assert_int_equal (f->seen, 1);
}

static void
test_a_removed_key_is_refused_and_a_rotated_server_key_followed (void **state)
{
    fx_t *f = *state;
    assert_true (s_try (f, K_GOOD, 0, NULL));
    int without_good[] = { K_SERVER, K_OTHER };
    s_write_list (f, without_good, 2);
    sleep (3);                                  /* the list is looked at every 2 s at most */
    assert_false (s_try (f, K_GOOD, 0, NULL));
    assert_true (pl_bus_server_count (f->server, "refused_key") >= 1);

    /* The server moves to a new key: a client made before the change follows the list. */
    int old[] = { K_SERVER, K_GOOD };
    s_write_list (f, old, 2);
    char err[256];
    pl_bus_options_t o = s_opts (f, K_GOOD);
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, "rotating", "secure", f->endpoint, &o, err,
                                            sizeof err);
    assert_non_null (c);
    pl_bus_server_destroy (&f->server);
    int rotated[] = { K_SERVER2, K_GOOD };
    s_write_list (f, rotated, 2);
    pl_bus_options_t so = { .curve_secret_key_file = f->key[K_SERVER2], .keys_file = f->list };
    f->server = pl_bus_server_new (f->endpoint, &so, err, sizeof err);
    assert_non_null (f->server);
    pl_bus_server_set_handler (f->server, s_handler, f, NULL);
    pl_bus_server_allow (f->server, "AuditEvent", "intake");
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, "rotating");
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    pl_bus_client_set_ack_timeout (c, 200);
    assert_true (s_pump (f->server, c, 15000));
    assert_string_equal (f->sender, "intake");
    pl_bus_client_destroy (&c);
}

/* A rotation under way: the server's identity has two keys, and of its two instances one still
 * holds the old key and the other the new. One client reaches both without the list changing,
 * whichever key is listed first; then the old instance goes and nothing waits. */
static void
s_two_keys_both_admitted (fx_t *f, bool new_first)
{
    int both_old_first[] = { K_SERVER, K_SERVER2, K_GOOD };
    int both_new_first[] = { K_SERVER2, K_SERVER, K_GOOD };
    s_write_list (f, new_first ? both_new_first : both_old_first, 3);
    char err[256], second[64], endpoints[140];
    snprintf (second, sizeof second, "tcp://127.0.0.1:%d", pl_test_free_port ());
    pl_bus_options_t so = { .curve_secret_key_file = f->key[K_SERVER2], .keys_file = f->list };
    fx_t g = *f;                                 /* the new instance counts in its own place */
    g.seen = 0;
    pl_bus_server_t *fresh = pl_bus_server_new (second, &so, err, sizeof err);
    assert_non_null (fresh);
    pl_bus_server_set_handler (fresh, s_handler, &g, NULL);
    pl_bus_server_allow (fresh, "AuditEvent", "intake");
    pl_bus_server_destroy (&f->server);         /* the old instance reads the new list too */
    pl_bus_options_t oo = { .curve_secret_key_file = f->key[K_SERVER], .keys_file = f->list };
    f->server = pl_bus_server_new (f->endpoint, &oo, err, sizeof err);
    assert_non_null (f->server);
    pl_bus_server_set_handler (f->server, s_handler, f, NULL);
    pl_bus_server_allow (f->server, "AuditEvent", "intake");
    f->seen = 0;

    snprintf (endpoints, sizeof endpoints, "%s,%s", f->endpoint, second);
    pl_bus_options_t o = s_opts (f, K_GOOD);
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, new_first ? "rot-nf" : "rot-of", "secure",
                                            endpoints, &o, err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_ack_timeout (c, 300);
    /* Both connections secured: messages go to both instances (round robin on ready peers). */
    int64_t end = pl_clock_mono_ms () + 15000;
    int sent = 0;
    while ((f->seen == 0 || g.seen == 0) && pl_clock_mono_ms () < end) {
        pl_envelope_t env;
        pl_envelope_ids_t ids;
        Plateau__V1__AuditEvent ev;
        char owner[32];
        snprintf (owner, sizeof owner, "rot-%d", sent++);
        pl_envelope_t *p = s_event (&env, &ids, &ev, owner);
        assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
        for (int i = 0; i < 20; i++) {
            zmq_pollitem_t items[3] = { { pl_bus_server_socket (f->server), 0, ZMQ_POLLIN, 0 },
                                        { pl_bus_server_socket (fresh), 0, ZMQ_POLLIN, 0 },
                                        { pl_bus_client_socket (c), 0, ZMQ_POLLIN, 0 } };
            zmq_poll (items, 3, 10);
            pl_bus_server_process (f->server, 256);
            pl_bus_server_process (fresh, 256);
            pl_bus_client_process (c);
            pl_bus_client_tick (c);
        }
    }
    printf ("# %s first: %d messages, old instance took %d, new instance %d\n", new_first ? "new" : "old",
            sent, f->seen, g.seen);
    assert_true (f->seen > 0);
    assert_true (g.seen > 0);
    assert_int_equal (pl_bus_server_count (fresh, "refused_key"), 0);
    assert_int_equal (pl_bus_server_count (f->server, "refused_key"), 0);

    /* The old instance goes: what is left in flight and what comes next reach the new one. */
    pl_bus_server_destroy (&f->server);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, "rot-last");
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    assert_true (s_pump (fresh, c, 15000));
    assert_int_equal (pl_bus_client_inflight (c), 0);
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&fresh);
}

static void
test_during_a_rotation_both_server_keys_are_admitted (void **state)
{
    s_two_keys_both_admitted (*state, false);
}

static void
test_during_a_rotation_the_new_key_may_be_listed_first (void **state)
{
    s_two_keys_both_admitted (*state, true);
}

static void
test_bad_key_files_and_lists_are_reported (void **state)
{
    fx_t *f = *state;
    char err[512], pub[41];
    pl_bus_options_t o = { .curve_secret_key_file = "/nonexistent/key", .keys_file = f->list };
    assert_null (pl_bus_server_new ("tcp://127.0.0.1:*", &o, err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/key"));
    o.curve_secret_key_file = f->key[K_SERVER];
    o.keys_file = NULL;
    assert_null (pl_bus_server_new ("tcp://127.0.0.1:*", &o, err, sizeof err));
    assert_non_null (strstr (err, "key list"));

    char broken[600];
    snprintf (broken, sizeof broken, "%s/broken", f->dir);
    FILE *fp = fopen (broken, "w");
    fputs ("# fine\nintake not-a-key\n", fp);
    fclose (fp);
    o.keys_file = broken;
    assert_null (pl_bus_server_new ("tcp://127.0.0.1:*", &o, err, sizeof err));
    assert_non_null (strstr (err, "line 2"));

    /* A client to a peer the list does not know. */
    o = s_opts (f, K_GOOD);
    o.server_identity = "nobody";
    assert_null (pl_bus_client_new (f->redis, NULL, "x", "nobody", f->endpoint, &o, err, sizeof err));
    assert_non_null (strstr (err, "no key for 'nobody'"));

    /* The checks a service runs at start. */
    assert_int_equal (pl_bus_keys_check (f->list, f->key[K_GOOD], "intake", err, sizeof err), 0);
    assert_int_equal (pl_bus_keys_check (f->list, f->key[K_GOOD], "audit", err, sizeof err), PL_EINVAL);
    assert_non_null (strstr (err, "listed as intake"));
    assert_int_equal (pl_bus_keys_check (f->list, f->key[K_STRANGER], "stranger", err, sizeof err), PL_EINVAL);
    assert_int_equal (pl_bus_keys_find (f->list, "crm", pub, err, sizeof err), 0);
    assert_int_equal (strlen (pub), 40);
    assert_int_equal (pl_bus_keys_find (f->list, "nobody", pub, err, sizeof err), PL_ENOTFOUND);
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    f->clock = pl_clock_new_real ();
    f->dir = pl_test_tmpdir ("pl-curve");
    for (int i = 0; i < NKEYS; i++) {
        snprintf (f->pub[i], sizeof f->pub[i], "%s/%s.pub", f->dir, s_names[i]);
        snprintf (f->key[i], sizeof f->key[i], "%s/%s.key", f->dir, s_names[i]);
        if (pl_bus_curve_keygen (f->pub[i], f->key[i]) != 0)
            return -1;
    }
    snprintf (f->list, sizeof f->list, "%s/keys", f->dir);
    int listed[] = { K_SERVER, K_GOOD, K_OTHER };       /* "stranger" is not listed */
    s_write_list (f, listed, 3);
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", pl_test_free_port ());
    pl_bus_options_t o = { .curve_secret_key_file = f->key[K_SERVER], .keys_file = f->list };
    char err[256];
    f->server = pl_bus_server_new (f->endpoint, &o, err, sizeof err);
    if (!f->server) {
        fprintf (stderr, "%s\n", err);
        return -1;
    }
    pl_bus_server_set_handler (f->server, s_handler, f, NULL);
    pl_bus_server_allow (f->server, "AuditEvent", "intake");
    pl_bus_server_set_window (f->server, f->clock, 5 * 60 * 1000, 7LL * 24 * 3600 * 1000);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    pl_bus_server_destroy (&f->server);
    pl_redis_destroy (&f->redis);
    pl_clock_destroy (&f->clock);
    pl_test_redis_stop (&f->srv);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_listed_keys_get_in_named_by_their_identity, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_type_is_taken_only_from_allowed_identities, setup, teardown),
        cmocka_unit_test_setup_teardown (test_envelopes_far_outside_the_clock_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_removed_key_is_refused_and_a_rotated_server_key_followed,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_during_a_rotation_both_server_keys_are_admitted, setup, teardown),
        cmocka_unit_test_setup_teardown (test_during_a_rotation_the_new_key_may_be_listed_first, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_key_files_and_lists_are_reported, setup, teardown),
    };
    return cmocka_run_group_tests_name ("bus_curve", tests, NULL, NULL);
}
