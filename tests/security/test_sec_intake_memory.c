/*  test_sec_intake_memory.c — JSON bodies built to exhaust the intake's memory.
 *
 *  Attacks, each within the JSON body limit (set to 64 MiB here, the old default, so that the
 *  limits of the decoder are what stops them, not the size): 20 million empty leads in one
 *  batch (60 MB), and one lead with 4 million custom keys (48 MB); then two of them at once.
 *  Each is refused with its limit named (413 too_many_items, 413 too_many_keys) and the
 *  service's peak resident memory (VmHWM) stays within S_MAX_GROWTH_MB of what it was at
 *  start: the bodies are counted as they arrive and refused before any DOM is built (a DOM of
 *  the first one took 2.9 GB). The service then still answers a good lead.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_intake_fixture.h"

/* The documented worst case of a JSON request is its body limit plus a few MiB; these bodies
 * are refused after a few kilobytes, so the growth allowed is far below one body. */
#define S_MAX_GROWTH_MB 48

typedef enum { S_ITEMS, S_KEYS } s_kind_t;

typedef struct {
    fx_t *f;
    s_kind_t kind;
    int status;
    char code[64];
    long long sent;
} s_attack_t;

static long
s_vm_kb (pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *fp = fopen (path, "r");
    long kb = -1;
    size_t n = strlen (field);
    while (fp && fgets (line, sizeof line, fp))
        if (strncmp (line, field, n) == 0 && line[n] == ':')
            kb = strtol (line + n + 1, NULL, 10);
    if (fp)
        fclose (fp);
    return kb;
}

#define S_ITEMS_N 20000000LL
#define S_KEYS_N 4000000LL

static const char s_keys_head[] = "{\"phone\":\"+33612345678\",\"campaign\":\"mem\",\"custom\":{";

/* A body is head, then n units each ending in ',' (the last one's dropped), then tail. */
static long long
s_units (s_kind_t kind)
{
    return kind == S_ITEMS ? S_ITEMS_N : S_KEYS_N;
}

static const char *
s_head (s_kind_t kind)
{
    return kind == S_ITEMS ? "{\"leads\":[" : s_keys_head;
}

static long long
s_body_len (s_kind_t kind)
{
    return (long long) strlen (s_head (kind)) + (kind == S_ITEMS ? 3 : 12) * s_units (kind) - 1 + 2;
}

/* Writes the body's bytes from offset `at` into buf (up to cap); returns how many. */
static size_t
s_fill (s_kind_t kind, long long at, char *buf, size_t cap)
{
    const char *head = s_head (kind), *tail = kind == S_ITEMS ? "]}" : "}}";
    long long hl = (long long) strlen (head), ul = kind == S_ITEMS ? 3 : 12;
    long long units_end = hl + ul * s_units (kind) - 1, total = s_body_len (kind);
    char unit[16];
    long long unit_i = -1;
    size_t n = 0;
    for (; n < cap && at < total; at++) {
        if (at < hl)
            buf[n++] = head[at];
        else if (at < units_end) {
            long long i = (at - hl) / ul;
            if (i != unit_i) {
                if (kind == S_ITEMS)
                    memcpy (unit, "{},", 4);
                else
                    snprintf (unit, sizeof unit, "\"%07llx\":0,", i);
                unit_i = i;
            }
            buf[n++] = unit[(at - hl) % ul];
        } else
            buf[n++] = tail[at - units_end];
    }
    return n;
}

static void *
s_attack (void *arg)
{
    s_attack_t *a = arg;
    a->status = -1;
    long long total = s_body_len (a->kind);
    int fd = pl_test_http_connect (a->f->http_port);
    if (fd < 0)
        return NULL;
    char head[512];
    int hn = snprintf (head, sizeof head,
                       "POST /v1/leads?campaign=mem HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " FX_TOKEN
                       "\r\nContent-Type: application/json\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
                       total);
    bool ok = pl_test_http_send_all (fd, head, (size_t) hn);
    static __thread char buf[65536];
    for (long long at = 0; ok && at < total;) {
        size_t n = s_fill (a->kind, at, buf, sizeof buf);
        ok = pl_test_http_send_all (fd, buf, n);
        at += (long long) n;
        a->sent = at;
    }
    pl_test_http_reader_t *rd = pl_test_http_reader_new (fd);
    pl_test_http_resp_t r = { 0 };
    if (pl_test_http_read_response (rd, &r, false) >= 0) {
        a->status = r.status;
        json_t *j = r.body ? json_loads (r.body, 0, NULL) : NULL;
        const char *code = json_string_value (json_object_get (json_object_get (j, "error"), "code"));
        snprintf (a->code, sizeof a->code, "%s", code ? code : "");
        json_decref (j);
    }
    pl_test_http_resp_free (&r);
    pl_test_http_reader_destroy (&rd);
    close (fd);
    return NULL;
}

static int
setup (void **state)
{
    const char *extra[] = { "PLATEAU_INTAKE_MAX_JSON_BODY=64M", NULL };
    return fx_setup_with (state, extra);
}

static int
teardown (void **state)
{
    return fx_teardown (state);
}

static void
s_expect_good_lead_accepted (fx_t *f)
{
    const char *one = "{\"phone\":\"+33 6 12 34 56 78\",\"campaign\":\"after\"}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, one, strlen (one), &r), 201);
    pl_test_http_resp_free (&r);
}

static void
test_the_generated_bodies_are_the_json_they_claim (void **state)
{
    (void) state;
    /* the attack bodies, checked small: the same generator with the totals it announces */
    char buf[64];
    size_t n = s_fill (S_ITEMS, 0, buf, 16);
    assert_memory_equal (buf, "{\"leads\":[{},{},", 16);
    n = s_fill (S_ITEMS, s_body_len (S_ITEMS) - 5, buf, sizeof buf);
    assert_int_equal (n, 5);
    assert_memory_equal (buf, ",{}]}", 5);
    size_t hl = strlen (s_keys_head);
    n = s_fill (S_KEYS, (long long) hl, buf, 24);
    assert_memory_equal (buf, "\"0000000\":0,\"0000001\":0,", 24);
    n = s_fill (S_KEYS, s_body_len (S_KEYS) - 4, buf, sizeof buf);
    assert_int_equal (n, 4);
    assert_memory_equal (buf, ":0}}", 4);
}

static void
test_twenty_million_empty_leads_are_refused_in_bounded_memory (void **state)
{
    fx_t *f = *state;
    long base = s_vm_kb (f->pid, "VmHWM");
    s_attack_t a = { .f = f, .kind = S_ITEMS };
    s_attack (&a);
    long hwm = s_vm_kb (f->pid, "VmHWM");
    print_message ("20M empty leads (%lld bytes): %d %s; VmHWM %ld kB at start, %ld kB after\n", a.sent,
                   a.status, a.code, base, hwm);
    assert_int_equal (a.status, 413);
    assert_string_equal (a.code, "too_many_items");
    assert_true (hwm - base < S_MAX_GROWTH_MB * 1024);
    s_expect_good_lead_accepted (f);
}

static void
test_four_million_custom_keys_are_refused_in_bounded_memory (void **state)
{
    fx_t *f = *state;
    long base = s_vm_kb (f->pid, "VmHWM");
    s_attack_t a = { .f = f, .kind = S_KEYS };
    s_attack (&a);
    long hwm = s_vm_kb (f->pid, "VmHWM");
    print_message ("4M custom keys (%lld bytes): %d %s; VmHWM %ld kB at start, %ld kB after\n", a.sent, a.status,
                   a.code, base, hwm);
    assert_int_equal (a.status, 413);
    assert_string_equal (a.code, "too_many_keys");
    assert_true (hwm - base < S_MAX_GROWTH_MB * 1024);
    s_expect_good_lead_accepted (f);
}

static void
test_both_at_once_stay_in_bounded_memory (void **state)
{
    fx_t *f = *state;
    long base = s_vm_kb (f->pid, "VmHWM");
    s_attack_t a[4] = { { .f = f, .kind = S_ITEMS }, { .f = f, .kind = S_KEYS }, { .f = f, .kind = S_ITEMS },
                        { .f = f, .kind = S_KEYS } };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&t[i], NULL, s_attack, &a[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join (t[i], NULL);
    long hwm = s_vm_kb (f->pid, "VmHWM");
    print_message ("four at once: %d %d %d %d; VmHWM %ld kB at start, %ld kB after\n", a[0].status, a[1].status,
                   a[2].status, a[3].status, base, hwm);
    for (int i = 0; i < 4; i++)
        assert_int_equal (a[i].status, 413);
    assert_true (hwm - base < S_MAX_GROWTH_MB * 1024);
    s_expect_good_lead_accepted (f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_generated_bodies_are_the_json_they_claim),
        cmocka_unit_test_setup_teardown (test_twenty_million_empty_leads_are_refused_in_bounded_memory, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_four_million_custom_keys_are_refused_in_bounded_memory, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_both_at_once_stay_in_bounded_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name ("sec_intake_memory", tests, NULL, NULL);
}
