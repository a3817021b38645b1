/*  test_bus_curve.c — with CURVE on, a listed client key is admitted, an unlisted one and a
 *  plaintext client are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pl_test.h"
#include "bus_helpers.h"

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    char *dir;
    char endpoint[64];
    char path[8][512];         /* server pub/sec, good pub/sec, bad pub/sec, clients */
    pl_bus_server_t *server;
    int seen;
} fx_t;

static void
s_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        f->seen++;
        pl_bus_msg_ack (msgs[i]);
    }
}

static bool
s_try (fx_t *f, const char *owner, const pl_bus_options_t *o)
{
    char err[256];
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, owner, "secure", f->endpoint, o, err, sizeof err);
    assert_non_null (c);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, owner);
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    bool delivered = s_pump (f->server, c, 1500);
    pl_bus_client_destroy (&c);
    return delivered;
}

static void
test_only_listed_client_keys_get_through (void **state)
{
    fx_t *f = *state;
    pl_bus_options_t good = { .curve_server_key_file = f->path[0], .curve_public_key_file = f->path[2],
                              .curve_secret_key_file = f->path[3] };
    pl_bus_options_t bad = { .curve_server_key_file = f->path[0], .curve_public_key_file = f->path[4],
                             .curve_secret_key_file = f->path[5] };
    assert_true (s_try (f, "good", &good));
    assert_int_equal (f->seen, 1);
    assert_false (s_try (f, "bad", &bad));
    assert_false (s_try (f, "plain", NULL));
    assert_int_equal (f->seen, 1);
    assert_true (pl_bus_server_count (f->server, "refused") >= 1);
}

static void
test_bad_key_files_are_reported (void **state)
{
    fx_t *f = *state;
    char err[256];
    pl_bus_options_t o = { .curve_secret_key_file = "/nonexistent/key", .curve_clients_file = f->path[6] };
    assert_null (pl_bus_server_new ("tcp://127.0.0.1:*", &o, err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/key"));
    FILE *fp = fopen (f->path[7], "w");
    fputs ("not-a-key\n", fp);
    fclose (fp);
    o.curve_secret_key_file = f->path[1];
    o.curve_clients_file = f->path[7];
    assert_null (pl_bus_server_new ("tcp://127.0.0.1:*", &o, err, sizeof err));
    assert_non_null (strstr (err, "line 1"));
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    f->dir = pl_test_tmpdir ("pl-curve");
    const char *names[] = { "server.pub", "server.key", "good.pub", "good.key", "bad.pub", "bad.key",
                            "clients", "broken" };
    for (int i = 0; i < 8; i++)
        snprintf (f->path[i], sizeof f->path[i], "%s/%s", f->dir, names[i]);
    for (int i = 0; i < 6; i += 2)
        if (pl_bus_curve_keygen (f->path[i], f->path[i + 1]) != 0)
            return -1;
    /* Only "good" is listed. */
    char key[64] = "";
    FILE *in = fopen (f->path[2], "r");
    if (!in || !fgets (key, sizeof key, in))
        return -1;
    fclose (in);
    FILE *out = fopen (f->path[6], "w");
    fprintf (out, "# allowed clients\n%s", key);
    fclose (out);
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", pl_test_free_port ());
    pl_bus_options_t o = { .curve_secret_key_file = f->path[1], .curve_clients_file = f->path[6] };
    char err[256];
    f->server = pl_bus_server_new (f->endpoint, &o, err, sizeof err);
    if (!f->server) {
        fprintf (stderr, "%s\n", err);
        return -1;
    }
    pl_bus_server_set_handler (f->server, s_handler, f, NULL);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    pl_bus_server_destroy (&f->server);
    pl_redis_destroy (&f->redis);
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
        cmocka_unit_test_setup_teardown (test_only_listed_client_keys_get_through, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_key_files_are_reported, setup, teardown),
    };
    return cmocka_run_group_tests_name ("bus_curve", tests, NULL, NULL);
}
