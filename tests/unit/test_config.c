/*  test_config.c — PLATEAU_* variables, their formats, secret files and the exit on error.
 *
 *  The environment is a table given through pl_config_new_with, so cases run side by side
 *  without touching the process environment (except the one test of pl_config_new).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "plateau/config.h"
#include "plateau/error.h"

typedef struct {
    const char *name;
    const char *value;
} s_var_t;

/* Looks name up in a NULL-terminated table of s_var_t. */
static const char *
s_table (const char *name, void *arg)
{
    for (const s_var_t *v = arg; v && v->name; v++)
        if (strcmp (v->name, name) == 0)
            return v->value;
    return NULL;
}

/* A config over one variable. */
static pl_config_t *
s_one (s_var_t vars[2], const char *name, const char *value)
{
    vars[0] = (s_var_t) { name, value };
    vars[1] = (s_var_t) { NULL, NULL };
    pl_config_t *c = pl_config_new_with (s_table, vars);
    assert_non_null (c);
    return c;
}

/* Writes text to a new temporary file; returns its malloc'd path. */
static char *
s_temp_file (const char *text, size_t len)
{
    const char *dir = getenv ("TMPDIR");
    char *path = NULL;
    assert_true (asprintf (&path, "%s/pl-config-test-XXXXXX", dir && *dir ? dir : "/tmp") > 0);
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, len), (ssize_t) len);
    close (fd);
    return path;
}

static void
test_unset_and_empty_variables_give_the_defaults (void **state)
{
    (void) state;
    s_var_t vars[] = { { "PLATEAU_EMPTY", "" }, { NULL, NULL } };
    pl_config_t *c = pl_config_new_with (s_table, vars);
    assert_string_equal (pl_config_str (c, "PLATEAU_NAME", "intake"), "intake");
    assert_null (pl_config_str (c, "PLATEAU_NAME", NULL));
    assert_string_equal (pl_config_str (c, "PLATEAU_EMPTY", "dflt"), "dflt");
    assert_int_equal (pl_config_int (c, "PLATEAU_PORT", 8080, 1, 65535), 8080);
    assert_int_equal (pl_config_int (c, "PLATEAU_EMPTY", 7, 1, 10), 7);
    assert_int_equal (pl_config_duration_ms (c, "PLATEAU_GRACE", 30000), 30000);
    assert_int_equal (pl_config_size (c, "PLATEAU_MAX_BODY", 1024), 1024);
    assert_true (pl_config_bool (c, "PLATEAU_CURVE", true));
    assert_false (pl_config_bool (c, "PLATEAU_CURVE", false));
    assert_null (pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", false));
    assert_int_equal (pl_config_ok (c), 0);
    assert_string_equal (pl_config_errstr (c), "");
    assert_null (pl_config_errvar (c));
    pl_config_destroy (&c);
    assert_null (c);
    pl_config_destroy (&c);
}

static void
test_strings_are_copies_owned_by_the_config (void **state)
{
    (void) state;
    char value[] = "redis://127.0.0.1:6379/0";
    s_var_t vars[2];
    pl_config_t *c = s_one (vars, "PLATEAU_REDIS_URL", value);
    const char *got = pl_config_str (c, "PLATEAU_REDIS_URL", NULL);
    value[0] = 'X';
    assert_string_equal (got, "redis://127.0.0.1:6379/0");
    pl_config_destroy (&c);
}

static void
test_durations (void **state)
{
    (void) state;
    static const struct { const char *text; bool ok; int64_t ms; } cases[] = {
        { "250ms", true, 250 },
        { "10s", true, 10000 },
        { "5m", true, 300000 },
        { "2h", true, 7200000 },
        { "30d", true, 2592000000LL },
        { "1h30m", true, 5400000 },
        { "1m30s500ms", true, 90500 },
        { "0", true, 0 },
        { "0ms", true, 0 },
        { " 10s ", true, 10000 },
        { "106751991167d", true, 106751991167LL * 86400000LL },
        { "10", false, 0 },             /* a unit is required: seconds or milliseconds? */
        { "-5s", false, 0 },
        { "+5s", false, 0 },
        { "5x", false, 0 },
        { "s", false, 0 },
        { "ms", false, 0 },
        { "1.5s", false, 0 },
        { "10 s", false, 0 },
        { "5S", false, 0 },
        { "10s10", false, 0 },
        { "106751991168d", false, 0 },  /* past INT64_MAX milliseconds */
        { "99999999999999999999s", false, 0 },
        { "   ", false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_var_t vars[2];
        pl_config_t *c = s_one (vars, "PLATEAU_GRACE", cases[i].text);
        int64_t got = pl_config_duration_ms (c, "PLATEAU_GRACE", -1);
        if (cases[i].ok) {
            if (pl_config_ok (c) != 0 || got != cases[i].ms)
                fail_msg ("'%s': expected %lld ms, got %lld (%s)", cases[i].text,
                          (long long) cases[i].ms, (long long) got, pl_config_errstr (c));
        }
        else {
            if (pl_config_ok (c) != PL_ECONFIG || got != -1)
                fail_msg ("'%s' should be refused, got %lld", cases[i].text, (long long) got);
            assert_string_equal (pl_config_errvar (c), "PLATEAU_GRACE");
            assert_non_null (strstr (pl_config_errstr (c), "expected a duration"));
        }
        pl_config_destroy (&c);
    }
}

static void
test_sizes (void **state)
{
    (void) state;
    static const struct { const char *text; bool ok; int64_t bytes; } cases[] = {
        { "512", true, 512 },
        { "512B", true, 512 },
        { "0", true, 0 },
        { "64k", true, 65536 },
        { "64K", true, 65536 },
        { "64KiB", true, 65536 },
        { "64kb", true, 65536 },
        { "10M", true, 10485760 },
        { "10m", true, 10485760 },
        { "1G", true, 1073741824 },
        { "2T", true, 2199023255552LL },
        { "8388607T", true, 8388607LL << 40 },
        { "8388608T", false, 0 },       /* 2^63 bytes */
        { "10X", false, 0 },
        { "-1", false, 0 },
        { "k", false, 0 },
        { "1.5M", false, 0 },
        { "10MiBs", false, 0 },
        { "10 M", false, 0 },
        { "10Bi", false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_var_t vars[2];
        pl_config_t *c = s_one (vars, "PLATEAU_MAX_BODY", cases[i].text);
        int64_t got = pl_config_size (c, "PLATEAU_MAX_BODY", -1);
        if (cases[i].ok) {
            if (pl_config_ok (c) != 0 || got != cases[i].bytes)
                fail_msg ("'%s': expected %lld, got %lld (%s)", cases[i].text,
                          (long long) cases[i].bytes, (long long) got, pl_config_errstr (c));
        }
        else {
            if (pl_config_ok (c) != PL_ECONFIG || got != -1)
                fail_msg ("'%s' should be refused, got %lld", cases[i].text, (long long) got);
            assert_string_equal (pl_config_errvar (c), "PLATEAU_MAX_BODY");
        }
        pl_config_destroy (&c);
    }
}

static void
test_bools (void **state)
{
    (void) state;
    static const struct { const char *text; int want; } cases[] = {
        { "true", 1 }, { "TRUE", 1 }, { "1", 1 }, { "yes", 1 }, { "On", 1 },
        { "false", 0 }, { "False", 0 }, { "0", 0 }, { "no", 0 }, { "off", 0 }, { " off ", 0 },
        { "2", -1 }, { "y", -1 }, { "enabled", -1 }, { "truee", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_var_t vars[2];
        pl_config_t *c = s_one (vars, "PLATEAU_CURVE", cases[i].text);
        /* The default is the opposite of the expected value, so it cannot pass by accident. */
        bool def = cases[i].want == 1 ? false : true;
        bool got = pl_config_bool (c, "PLATEAU_CURVE", def);
        if (cases[i].want < 0) {
            assert_int_equal (pl_config_ok (c), PL_ECONFIG);
            assert_true (got == def);
            assert_non_null (strstr (pl_config_errstr (c), "true, false, 1, 0, yes, no, on or off"));
        }
        else {
            if (pl_config_ok (c) != 0 || got != (cases[i].want == 1))
                fail_msg ("'%s' read as %d", cases[i].text, got);
        }
        pl_config_destroy (&c);
    }
}

static void
test_integers_must_be_whole_and_in_range (void **state)
{
    (void) state;
    static const struct { const char *text; bool ok; int64_t want; } cases[] = {
        { "8080", true, 8080 }, { "1", true, 1 }, { "65535", true, 65535 }, { " 42 ", true, 42 },
        { "0", false, 0 }, { "65536", false, 0 }, { "-1", false, 0 }, { "80a", false, 0 },
        { "0x50", false, 0 }, { "8e3", false, 0 }, { "99999999999999999999", false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_var_t vars[2];
        pl_config_t *c = s_one (vars, "PLATEAU_HTTP_PORT", cases[i].text);
        int64_t got = pl_config_int (c, "PLATEAU_HTTP_PORT", 9, 1, 65535);
        if (cases[i].ok)
            assert_int_equal (got, cases[i].want);
        else {
            assert_int_equal (got, 9);
            char want[200];
            snprintf (want, sizeof want,
                      "PLATEAU_HTTP_PORT: expected an integer between 1 and 65535, got '%s'",
                      cases[i].text);
            assert_string_equal (pl_config_errstr (c), want);
        }
        pl_config_destroy (&c);
    }
}

static void
test_error_names_the_variable_what_was_expected_and_what_was_got (void **state)
{
    (void) state;
    s_var_t vars[] = {
        { "PLATEAU_GRACE", "soon" },
        { "PLATEAU_PORT", "http" },
        { NULL, NULL },
    };
    pl_config_t *c = pl_config_new_with (s_table, vars);
    assert_null (pl_config_str_required (c, "PLATEAU_SERVICE", "a service name"));
    assert_int_equal (pl_config_ok (c), PL_ECONFIG);
    /* The first error wins; later ones do not replace it. */
    pl_config_duration_ms (c, "PLATEAU_GRACE", 1);
    pl_config_int (c, "PLATEAU_PORT", 1, 1, 2);
    assert_string_equal (pl_config_errstr (c),
                         "PLATEAU_SERVICE: expected a service name, got nothing (unset or empty)");
    assert_string_equal (pl_config_errvar (c), "PLATEAU_SERVICE");
    pl_config_destroy (&c);

    c = pl_config_new_with (s_table, vars);
    assert_int_equal (pl_config_duration_ms (c, "PLATEAU_GRACE", 1500), 1500);
    assert_string_equal (pl_config_errstr (c), "PLATEAU_GRACE: expected a duration such as "
                                               "250ms, 10s, 5m, 2h or 30d, got 'soon'");
    pl_config_destroy (&c);

    /* A service's own validation. */
    s_var_t url[2];
    c = s_one (url, "PLATEAU_REDIS_URL", "localhost");
    pl_config_fail (c, "PLATEAU_REDIS_URL", "redis://[:password@]host:port/db or unix:///path",
                    pl_config_str (c, "PLATEAU_REDIS_URL", NULL));
    assert_string_equal (pl_config_errstr (c), "PLATEAU_REDIS_URL: expected "
                         "redis://[:password@]host:port/db or unix:///path, got 'localhost'");
    pl_config_destroy (&c);
}

static void
test_long_or_binary_values_are_cut_in_messages (void **state)
{
    (void) state;
    char value[300];
    memset (value, 'x', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    value[3] = '\n';
    s_var_t vars[2];
    pl_config_t *c = s_one (vars, "PLATEAU_PORT", value);
    pl_config_int (c, "PLATEAU_PORT", 1, 1, 2);
    const char *err = pl_config_errstr (c);
    assert_null (strchr (err, '\n'));
    assert_non_null (strstr (err, "got 'xxx?xxx"));
    assert_non_null (strstr (err, "...'"));
    assert_true (strlen (err) < 200);
    pl_config_destroy (&c);
}

static void
test_secret_comes_from_the_file_without_its_newline (void **state)
{
    (void) state;
    const char text[] = "crm-paris:0123456789abcdef0123\ncrm-lyon:fedcba9876543210fedc\r\n\n";
    char *path = s_temp_file (text, sizeof text - 1);
    s_var_t vars[2];
    pl_config_t *c = s_one (vars, "PLATEAU_API_TOKENS_FILE", path);
    const char *secret = pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", true);
    assert_string_equal (secret, "crm-paris:0123456789abcdef0123\ncrm-lyon:fedcba9876543210fedc");
    assert_int_equal (pl_config_ok (c), 0);
    pl_config_destroy (&c);
    unlink (path);
    free (path);
}

static void
test_secret_file_errors_name_the_path_never_the_contents (void **state)
{
    (void) state;
    /* Missing file. */
    s_var_t vars[2];
    pl_config_t *c = s_one (vars, "PLATEAU_CURVE_SECRET_FILE", "/nonexistent/curve.key");
    assert_null (pl_config_secret_file (c, "PLATEAU_CURVE_SECRET_FILE", true));
    assert_string_equal (pl_config_errstr (c), "PLATEAU_CURVE_SECRET_FILE: expected the path of "
                         "a readable file holding the secret, got '/nonexistent/curve.key' "
                         "(No such file or directory)");
    pl_config_destroy (&c);

    /* A directory. */
    c = s_one (vars, "PLATEAU_CURVE_SECRET_FILE", "/tmp");
    assert_null (pl_config_secret_file (c, "PLATEAU_CURVE_SECRET_FILE", false));
    assert_non_null (strstr (pl_config_errstr (c), "Is a directory"));
    pl_config_destroy (&c);

    /* Required but unset. */
    c = s_one (vars, "PLATEAU_OTHER", "x");
    assert_null (pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", true));
    assert_string_equal (pl_config_errvar (c), "PLATEAU_API_TOKENS_FILE");
    pl_config_destroy (&c);

    /* Empty when required: refused. Empty when optional: "". */
    char *path = s_temp_file ("\n", 1);
    c = s_one (vars, "PLATEAU_API_TOKENS_FILE", path);
    assert_null (pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", true));
    assert_non_null (strstr (pl_config_errstr (c), "an empty file"));
    pl_config_destroy (&c);
    c = s_one (vars, "PLATEAU_API_TOKENS_FILE", path);
    assert_string_equal (pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", false), "");
    assert_int_equal (pl_config_ok (c), 0);
    pl_config_destroy (&c);
    unlink (path);
    free (path);

    /* Binary: refused, and the message holds none of it. */
    const char binary[] = "s3cr3t\0tail";
    path = s_temp_file (binary, sizeof binary - 1);
    c = s_one (vars, "PLATEAU_API_TOKENS_FILE", path);
    assert_null (pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", true));
    assert_null (strstr (pl_config_errstr (c), "s3cr3t"));
    assert_string_equal (pl_config_errvar (c), "PLATEAU_API_TOKENS_FILE");
    pl_config_destroy (&c);
    unlink (path);
    free (path);

    /* Over 1 MiB. */
    size_t big = 1024 * 1024 + 1;
    char *text = malloc (big);
    memset (text, 'k', big);
    path = s_temp_file (text, big);
    free (text);
    c = s_one (vars, "PLATEAU_API_TOKENS_FILE", path);
    assert_null (pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", true));
    assert_non_null (strstr (pl_config_errstr (c), "larger than 1 MiB"));
    assert_null (strstr (pl_config_errstr (c), "kkkk"));
    pl_config_destroy (&c);
    unlink (path);
    free (path);
}

static void
test_process_environment_is_read_by_default (void **state)
{
    (void) state;
    setenv ("PLATEAU_TEST_CONFIG_GRACE", "45s", 1);
    pl_config_t *c = pl_config_new ();
    assert_int_equal (pl_config_duration_ms (c, "PLATEAU_TEST_CONFIG_GRACE", 0), 45000);
    pl_config_destroy (&c);
    unsetenv ("PLATEAU_TEST_CONFIG_GRACE");
}

/* Runs pl_config_check_or_exit in a child; returns its exit status and its stderr. */
static int
s_check_in_child (s_var_t *vars, char *err, size_t err_size)
{
    int pipefd[2];
    assert_int_equal (pipe (pipefd), 0);
    fflush (NULL);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        dup2 (pipefd[1], STDERR_FILENO);
        close (pipefd[0]);
        pl_config_t *c = pl_config_new_with (s_table, vars);
        pl_config_int (c, "PLATEAU_HTTP_PORT", 8080, 1, 65535);
        pl_config_secret_file (c, "PLATEAU_API_TOKENS_FILE", false);
        pl_config_check_or_exit (c, "intake");
        pl_config_destroy (&c);
        _exit (0);
    }
    close (pipefd[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < err_size && (n = read (pipefd[0], err + len, err_size - len - 1)) > 0)
        len += (size_t) n;
    err[len] = '\0';
    close (pipefd[0]);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

static void
test_check_or_exit_logs_json_and_exits_2 (void **state)
{
    (void) state;
    char err[2048];
    s_var_t bad[] = { { "PLATEAU_HTTP_PORT", "eighty" }, { NULL, NULL } };
    assert_int_equal (s_check_in_child (bad, err, sizeof err), 2);
    /* Exactly one JSON line. */
    char *nl = strchr (err, '\n');
    assert_non_null (nl);
    assert_string_equal (nl + 1, "");
    json_error_t jerr;
    json_t *j = json_loads (err, 0, &jerr);
    assert_non_null (j);
    assert_string_equal (json_string_value (json_object_get (j, "level")), "error");
    assert_string_equal (json_string_value (json_object_get (j, "service")), "intake");
    assert_string_equal (json_string_value (json_object_get (j, "variable")), "PLATEAU_HTTP_PORT");
    assert_string_equal (json_string_value (json_object_get (j, "expected")),
                         "an integer between 1 and 65535");
    assert_string_equal (json_string_value (json_object_get (j, "got")), "'eighty'");
    assert_non_null (strstr (json_string_value (json_object_get (j, "error")),
                             "PLATEAU_HTTP_PORT"));
    json_decref (j);

    /* A secret never reaches the log, even when another variable is wrong. */
    const char secret[] = "crm:TOPSECRET-0123456789abcdef";
    char *path = s_temp_file (secret, sizeof secret - 1);
    s_var_t with_secret[] = { { "PLATEAU_API_TOKENS_FILE", path },
                              { "PLATEAU_HTTP_PORT", "0" }, { NULL, NULL } };
    assert_int_equal (s_check_in_child (with_secret, err, sizeof err), 2);
    assert_null (strstr (err, "TOPSECRET"));
    unlink (path);
    free (path);

    s_var_t good[] = { { "PLATEAU_HTTP_PORT", "8080" }, { NULL, NULL } };
    assert_int_equal (s_check_in_child (good, err, sizeof err), 0);
    assert_string_equal (err, "");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_unset_and_empty_variables_give_the_defaults),
        cmocka_unit_test (test_strings_are_copies_owned_by_the_config),
        cmocka_unit_test (test_durations),
        cmocka_unit_test (test_sizes),
        cmocka_unit_test (test_bools),
        cmocka_unit_test (test_integers_must_be_whole_and_in_range),
        cmocka_unit_test (test_error_names_the_variable_what_was_expected_and_what_was_got),
        cmocka_unit_test (test_long_or_binary_values_are_cut_in_messages),
        cmocka_unit_test (test_secret_comes_from_the_file_without_its_newline),
        cmocka_unit_test (test_secret_file_errors_name_the_path_never_the_contents),
        cmocka_unit_test (test_process_environment_is_read_by_default),
        cmocka_unit_test (test_check_or_exit_logs_json_and_exits_2),
    };
    return cmocka_run_group_tests_name ("config", tests, NULL, NULL);
}
