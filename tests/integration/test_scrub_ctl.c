/*  test_scrub_ctl.c — the operator's scrub commands as a process against a real plateau-scrub
 *  (issue 10, "Interfaces"): `plateauctl lists load` prints the version and each bad line by
 *  number, `lists status` shows it; `dnc add` denies a number that `scrub FILE` then reports
 *  with the rule, and `dnc remove` lifts it; `consent add` prints an id that `consent revoke`
 *  takes; `scrub` prints a line per number and a summary, a file over 10,000 numbers in several
 *  requests. Refusals exit 1 with the service's reason, usage errors 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

#define LISTED "+12025550123"         /* on the us-dnc copy loaded below */
#define CLEAR "+12025550124"

typedef struct {
    sx_t *f;
    char url[64];
    char out[700];                      /* plateauctl's stdout and stderr */
    char text[1 << 20];                 /* a 10,001-line scrub answer fits */
} s_t;

/* Runs plateauctl with the arguments (NULL-terminated) and --url/--token; its output in s->text.
 * Returns its exit status. */
static int
s_ctl (s_t *s, const char *token, const char *arg0, ...)
{
    char *argv[40] = { "plateauctl" };
    int n = 1;
    va_list ap;
    va_start (ap, arg0);
    for (const char *a = arg0; a && n < 35; a = va_arg (ap, const char *))
        argv[n++] = (char *) a;
    va_end (ap);
    argv[n++] = "--url";
    argv[n++] = s->url;
    argv[n++] = "--token";
    argv[n++] = (char *) token;
    argv[n] = NULL;
    unlink (s->out);
    pid_t pid = pl_test_spawn (argv, NULL, s->out);
    int status = pl_test_stop (pid, 0, 60000);     /* signal 0: just wait */
    assert_true (status >= 0 && WIFEXITED (status));
    s->text[0] = '\0';
    FILE *fp = fopen (s->out, "r");
    if (fp) {
        size_t got = fread (s->text, 1, sizeof s->text - 1, fp);
        s->text[got] = '\0';
        fclose (fp);
    }
    printf ("$ plateauctl %s %s …: exit %d\n%.2000s\n", argv[1], argv[2] ? argv[2] : "", WEXITSTATUS (status), s->text);
    return WEXITSTATUS (status);
}

static void
s_write (s_t *s, const char *name, const char *text, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", s->f->dir, name);
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    fclose (fp);
}

/* The line plateauctl scrub printed for number (its decision and rule), "" when none. */
static void
s_scrub_line (s_t *s, const char *number, char *out, size_t size)
{
    const char *p = strstr (s->text, number);
    out[0] = '\0';
    if (p)
        snprintf (out, size, "%.*s", (int) strcspn (p, "\n"), p);
}

static void
test_lists_load_and_status_show_the_version_and_name_bad_lines (void **state)
{
    s_t *s = *state;
    char date[11], file[700];
    pl_test_date (-1, date);
    s_write (s, "dnc.txt", "202,5550123\n20x,1\n", file, sizeof file);

    /* Refused whole by default: exit 1, the bad line named by its number, nothing in force. */
    assert_int_equal (s_ctl (s, SX_OPS_TOKEN, "lists", "load", "us-dnc", file, "--jurisdiction", "US", "--taken",
                             date, NULL), 1);
    assert_non_null (strstr (s->text, "line 2"));
    /* Applied when asked: the version printed, the bad line still named. */
    assert_int_equal (s_ctl (s, SX_OPS_TOKEN, "lists", "load", "us-dnc", file, "--jurisdiction", "US", "--taken",
                             date, "--bad-lines", "apply", NULL), 0);
    assert_non_null (strstr (s->text, "us-dnc@"));
    assert_non_null (strstr (s->text, "line 2"));
    assert_int_equal (s_ctl (s, SX_OPS_TOKEN, "lists", "status", NULL), 0);
    assert_non_null (strstr (s->text, "us-dnc"));
    assert_non_null (strstr (s->text, date));

    /* A CRM's token may not load lists; a missing option is a usage error. */
    assert_int_equal (s_ctl (s, SX_TOKEN, "lists", "load", "us-dnc", file, "--jurisdiction", "US", "--taken", date,
                             NULL), 1);
    assert_int_equal (s_ctl (s, SX_OPS_TOKEN, "lists", "load", "us-dnc", file, NULL), 2);
}

static void
test_dnc_and_consent_change_what_scrub_answers (void **state)
{
    s_t *s = *state;
    char date[11], list[700], numbers[700], line[256];
    pl_test_date (-1, date);
    s_write (s, "dnc.txt", "202,5550123\n", list, sizeof list);
    assert_int_equal (s_ctl (s, SX_OPS_TOKEN, "lists", "load", "us-dnc", list, "--jurisdiction", "US", "--taken",
                             date, NULL), 0);
    s_write (s, "numbers.csv", "phone\n" LISTED "\n" CLEAR "\nnot a number\n", numbers, sizeof numbers);

    /* The registry hit and the clear number, line by line, then the summary and the progress. */
    assert_int_equal (s_ctl (s, SX_TOKEN, "scrub", numbers, NULL), 0);
    s_scrub_line (s, LISTED, line, sizeof line);
    assert_non_null (strstr (line, "deny"));
    assert_non_null (strstr (line, "(hit)"));
    s_scrub_line (s, CLEAR, line, sizeof line);
    assert_null (strstr (line, "deny"));
    assert_non_null (strstr (s->text, "invalid 1"));

    /* An opt-out denies the clear number at once; removing it (operators only) lifts it. */
    assert_int_equal (s_ctl (s, SX_TOKEN, "dnc", "add", CLEAR, "--channel", "crm", NULL), 0);
    assert_int_equal (s_ctl (s, SX_TOKEN, "scrub", numbers, NULL), 0);
    s_scrub_line (s, CLEAR, line, sizeof line);
    assert_non_null (strstr (line, "deny"));
    assert_non_null (strstr (line, "dnc"));
    assert_int_equal (s_ctl (s, SX_TOKEN, "dnc", "remove", CLEAR, NULL), 1);
    assert_int_equal (s_ctl (s, SX_OPS_TOKEN, "dnc", "remove", CLEAR, NULL), 0);
    assert_int_equal (s_ctl (s, SX_TOKEN, "scrub", numbers, NULL), 0);
    s_scrub_line (s, CLEAR, line, sizeof line);
    assert_null (strstr (line, "deny"));

    /* A consent without its proof is refused; with it, an id that revoke takes. */
    assert_int_equal (s_ctl (s, SX_TOKEN, "consent", "add", "+33612345678", "--source", "web-form", NULL), 1);
    assert_non_null (strstr (s->text, "evidence_ref"));
    assert_int_equal (s_ctl (s, SX_TOKEN, "consent", "add", "+33612345678", "--source", "web-form", "--evidence",
                             "proof-1", "--captured-at", "2026-10-01T10:00:00Z", "--channel", "phone", NULL), 0);
    char *id = strstr (s->text, "\"id\":\"");
    assert_non_null (id);
    char consent_id[128];
    snprintf (consent_id, sizeof consent_id, "%.*s", (int) strcspn (id + 6, "\""), id + 6);
    assert_int_equal (s_ctl (s, SX_TOKEN, "consent", "revoke", consent_id, NULL), 0);
    assert_int_equal (s_ctl (s, SX_TOKEN, "consent", "revoke", "no-such-consent", NULL), 1);

    /* A file over one request's 10,000 numbers goes in several, and every number is counted. */
    char big[700];
    snprintf (big, sizeof big, "%s/big.txt", s->f->dir);
    FILE *fp = fopen (big, "w");
    assert_non_null (fp);
    for (int i = 0; i < 10001; i++)
        fprintf (fp, "+1202555%04d\n", i % 10000);
    fclose (fp);
    assert_int_equal (s_ctl (s, SX_TOKEN, "scrub", big, NULL), 0);
    long allow = -1, defer = -1, deny = -1, invalid = -1;
    /* The summary line, not a number's line (which says "allow" too in the daytime). */
    const char *sum = NULL;
    for (const char *p = strstr (s->text, "allow "); p && !sum; p = strstr (p + 1, "allow "))
        if ((p == s->text || p[-1] == '\n') && p[6] >= '0' && p[6] <= '9')
            sum = p;
    assert_non_null (sum);
    assert_int_equal (sscanf (sum, "allow %ld, defer %ld, deny %ld, invalid %ld", &allow, &defer, &deny, &invalid), 4);
    assert_int_equal (allow + defer + deny + invalid, 10001);
    assert_int_equal (deny, 1);                                 /* +12025550123, the listed one */
}

static int
s_setup (void **state)
{
    s_t *s = calloc (1, sizeof *s);
    s->f = sx_new ();
    if (!s->f)
        return -1;
    char lists[600];
    snprintf (lists, sizeof lists, "PLATEAU_SCRUB_LISTS_DIR=%s/lists", s->f->dir);
    const char *extra[] = { lists, NULL };
    if (sx_start_scrub (s->f, 0, extra) != 0)
        return -1;
    snprintf (s->url, sizeof s->url, "http://127.0.0.1:%d", s->f->scrub[0].http_port);
    snprintf (s->out, sizeof s->out, "%s/ctl.out", s->f->dir);
    *state = s;
    return 0;
}

static int
s_teardown (void **state)
{
    s_t *s = *state;
    sx_destroy (s->f);
    free (s);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_lists_load_and_status_show_the_version_and_name_bad_lines, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_dnc_and_consent_change_what_scrub_answers, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
