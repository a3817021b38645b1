/*  test_e2e_intake.c — a CRM's file through the intake's HTTP door, end to end, with real
 *  processes: a private Redis, plateau-intake, and real bus receivers standing in for scrub and
 *  audit. The operator's `plateauctl leads submit` sends tests/data/intake/demo_leads.csv (the
 *  file of `make demo`: French, US and UK numbers in their written forms, a Réunion mobile, two
 *  bad rows, one duplicate); its exit status and summary say what became of every row; a lead
 *  read back over HTTP has its E.164 number and zone; scrub receives one LeadSubmitted per
 *  accepted lead and audit one event per row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include <sys/wait.h>
#include "test_intake_fixture.h"

/* What demo_leads.csv holds. */
#define ACCEPTED 7
#define DUPLICATES 1
#define REJECTED 2

typedef struct {
    fx_t *f;
    char out[512];
    char *stdout_text;
} e2e_t;

static int
s_setup (void **state)
{
    e2e_t *e = calloc (1, sizeof *e);
    e->f = fx_new (NULL);
    if (!e->f)
        return -1;
    snprintf (e->out, sizeof e->out, "%s/plateauctl.out", e->f->dir);
    if (fx_start (e->f, NULL) <= 0 || !pl_test_wait_until (fx_ready_fn, e->f, 15000))
        return -1;
    *state = e;
    return 0;
}

static int
s_teardown (void **state)
{
    e2e_t *e = *state;
    if (e) {
        free (e->stdout_text);
        fx_destroy (e->f);
        free (e);
    }
    return 0;
}

/* Runs `plateauctl leads submit FILE args…` as an operator would, with the intake's URL and
 * token in the environment; the stand-ins keep reading meanwhile. Returns the exit code. */
static int
s_submit (e2e_t *e, const char *file, const char *arg0, ...)
{
    char *argv[32] = { "plateauctl", "leads", "submit", (char *) file };
    int n = 4;
    va_list ap;
    va_start (ap, arg0);
    for (const char *a = arg0; a && n < 31; a = va_arg (ap, const char *))
        argv[n++] = (char *) a;
    va_end (ap);
    argv[n] = NULL;
    char url[128], token[128];
    snprintf (url, sizeof url, "PLATEAU_INTAKE_URL=http://127.0.0.1:%d", e->f->http_port);
    snprintf (token, sizeof token, "PLATEAU_API_TOKEN=%s", FX_TOKEN);
    char *env[] = { url, token, NULL };
    unlink (e->out);
    pid_t pid = pl_test_spawn (argv, env, e->out);
    assert_true (pid > 0);
    int status = 0;
    int64_t end = pl_clock_mono_ms () + 30000;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (pl_clock_mono_ms () > end) {
            pl_test_stop (pid, SIGKILL, 2000);
            fail_msg ("plateauctl did not finish in 30 s");
        }
        fx_pump (e->f, 20);
    }
    assert_true (WIFEXITED (status));
    size_t len;
    free (e->stdout_text);
    e->stdout_text = fx_read_file (e->out, &len);
    assert_non_null (e->stdout_text);
    return WEXITSTATUS (status);
}

/* The value printed after a summary label ("accepted       7"), or -1. */
static long
s_summary (const char *text, const char *label)
{
    for (const char *p = text; (p = strstr (p, label)); p++)
        if ((p == text || p[-1] == '\n') && p[strlen (label)] == ' ')
            return atol (p + strlen (label));
    return -1;
}

/* The lead id plateauctl --all printed for the given line of the file ("accepted <id> (line N)"). */
static bool
s_lead_of_line (const char *text, int line, char *id, size_t size)
{
    char want[32];
    snprintf (want, sizeof want, " (line %d)\n", line);
    for (const char *p = text; (p = strstr (p, "\naccepted ")); p++) {
        const char *sp = strchr (p + 10, ' ');
        if (sp && strncmp (sp, want, strlen (want)) == 0 && (size_t) (sp - (p + 10)) < size) {
            snprintf (id, size, "%.*s", (int) (sp - (p + 10)), p + 10);
            return true;
        }
    }
    return false;
}

static size_t
s_audit_count (fx_t *f, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < f->naudit; i++)
        n += strcmp (f->audit_types[i], type) == 0;
    return n;
}

typedef struct {
    fx_t *f;
    size_t submitted, audited;
} wait_t;

static bool
s_delivered (void *arg)
{
    wait_t *w = arg;
    fx_pump (w->f, 20);
    return w->f->nsubmitted >= w->submitted && w->f->naudit >= w->audited;
}

static void
test_crm_file_goes_through_the_http_door_to_scrub_and_audit (void **state)
{
    e2e_t *e = *state;
    fx_t *f = e->f;
    char file[512];
    snprintf (file, sizeof file, "%s/tests/data/intake/demo_leads.csv", getenv ("PL_SOURCE_DIR"));

    int rc = s_submit (e, file, "--campaign", "e2e-fr", "--country", "FR", "--all", NULL);
    const char *out = e->stdout_text;
    fprintf (stderr, "%s", out);                      /* shown by ctest when a check fails */
    assert_int_equal (rc, 0);
    assert_int_equal (s_summary (out, "http status"), 200);
    assert_int_equal (s_summary (out, "accepted"), ACCEPTED);
    assert_int_equal (s_summary (out, "duplicate"), DUPLICATES);
    assert_int_equal (s_summary (out, "rejected"), REJECTED);
    assert_int_equal (s_summary (out, "not accepted"), 0);
    /* The rejections with their line and column: the short number (line 9, column 4) and the
     * e-mail without '@' (line 10, column 7). */
    assert_non_null (strstr (out, "first rejections:"));
    assert_non_null (strstr (out, "\n9      4      phone          invalid_number"));
    assert_non_null (strstr (out, "\n10     7      email          invalid_email"));

    /* The Réunion mobile (line 4, "0692 12 34 56") read back through HTTP. */
    char id[64];
    assert_true (s_lead_of_line (out, 4, id, sizeof id));
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_get_lead (f, id, &r), 200);
    json_t *j = json_loads (r.body, 0, NULL);
    assert_non_null (j);
    json_t *phone = json_object_get (json_object_get (j, "lead"), "phone");
    assert_string_equal (json_string_value (json_object_get (phone, "e164")), "+262692123456");
    assert_string_equal (json_string_value (json_array_get (json_object_get (phone, "zones"), 0)),
                         "Indian/Reunion");
    /* stored means owed to scrub until its verdict */
    const char *status = json_string_value (json_object_get (j, "status"));
    assert_non_null (status);
    assert_string_equal (status, "queued_for_scrub");
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* The US number of line 5 too, in its zone. */
    assert_true (s_lead_of_line (out, 5, id, sizeof id));
    assert_int_equal (fx_get_lead (f, id, &r), 200);
    j = json_loads (r.body, 0, NULL);
    phone = json_object_get (json_object_get (j, "lead"), "phone");
    assert_string_equal (json_string_value (json_object_get (phone, "e164")), "+14155550123");
    assert_string_equal (json_string_value (json_array_get (json_object_get (phone, "zones"), 0)),
                         "America/Los_Angeles");
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* Scrub receives every accepted lead once; audit an event for every row. */
    wait_t w = { f, ACCEPTED, ACCEPTED + DUPLICATES + REJECTED };
    assert_true (pl_test_wait_until (s_delivered, &w, 20000));
    fx_pump (f, 300);                                  /* nothing more arrives */
    assert_int_equal (f->nsubmitted, ACCEPTED);
    assert_true (s_lead_of_line (out, 4, id, sizeof id));
    bool seen = false;
    for (size_t i = 0; i < f->nsubmitted; i++)
        seen |= strcmp (f->submitted[i], id) == 0;
    assert_true (seen);
    assert_int_equal (s_audit_count (f, "lead.accepted"), ACCEPTED);
    assert_int_equal (s_audit_count (f, "lead.duplicate"), DUPLICATES);
    assert_int_equal (s_audit_count (f, "lead.rejected"), REJECTED);

    /* The outbox is empty once the stand-ins acknowledged. */
    assert_true (fx_scrub_owes_nothing (f, 5000));

    /* The same file again: every good row is now a duplicate, nothing new reaches scrub. */
    rc = s_submit (e, file, "--campaign", "e2e-fr", "--country", "FR", NULL);
    assert_int_equal (rc, 0);
    assert_int_equal (s_summary (e->stdout_text, "accepted"), 0);
    assert_int_equal (s_summary (e->stdout_text, "duplicate"), ACCEPTED + DUPLICATES);
    assert_int_equal (s_summary (e->stdout_text, "rejected"), REJECTED);
    fx_pump (f, 300);
    assert_int_equal (f->nsubmitted, ACCEPTED);
}

static void
test_submit_without_a_valid_token_fails_with_403_or_401 (void **state)
{
    e2e_t *e = *state;
    char file[512];
    snprintf (file, sizeof file, "%s/tests/data/intake/demo_leads.csv", getenv ("PL_SOURCE_DIR"));
    int rc = s_submit (e, file, "--campaign", "e2e-fr", "--token", "not-a-token-of-any-source", NULL);
    assert_int_not_equal (rc, 0);
    long st = s_summary (e->stdout_text, "http status");
    assert_true (st == 401 || st == 403);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_crm_file_goes_through_the_http_door_to_scrub_and_audit, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_submit_without_a_valid_token_fails_with_403_or_401, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
