/*  test_ops.c — the operations port: /healthz, /readyz, /metrics over real sockets.
 *
 *  Readiness follows its checks at every probe (503 naming the failing check, 200 again as
 *  soon as it passes, without a restart), draining forces 503, and /metrics serves the
 *  registry in the Prometheus text format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <jansson.h>
#include "plateau/error.h"
#include "plateau/metrics.h"
#include "plateau/ops.h"

/* ---- a small HTTP/1.1 client over plain sockets -------------------------------------------- */

typedef struct {
    int status;
    char *head;                      /* status line and headers, NUL-terminated */
    char *body;                      /* decoded body (chunked or not), NUL-terminated */
    size_t body_len;
} s_resp_t;

static void
s_resp_free (s_resp_t *r)
{
    free (r->head);
    free (r->body);
    memset (r, 0, sizeof *r);
}

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 20, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

/* Sends everything; false when the peer closed (it may have answered early). */
static bool
s_send_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t) n;
    }
    return true;
}

typedef struct {
    int fd;
    char buf[16384];
    size_t pos, len;
} s_reader_t;

static int
s_getc (s_reader_t *rd)
{
    if (rd->pos == rd->len) {
        ssize_t n;
        do
            n = recv (rd->fd, rd->buf, sizeof rd->buf, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            return -1;
        rd->pos = 0;
        rd->len = (size_t) n;
    }
    return (unsigned char) rd->buf[rd->pos++];
}

/* Reads one line without its CRLF into a malloc'd string; NULL at EOF. */
static char *
s_line (s_reader_t *rd)
{
    size_t cap = 128, len = 0;
    char *line = malloc (cap);
    int c;
    while ((c = s_getc (rd)) >= 0 && c != '\n') {
        if (len + 2 > cap)
            line = realloc (line, cap *= 2);
        line[len++] = (char) c;
    }
    if (c < 0 && len == 0) {
        free (line);
        return NULL;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    return line;
}

static void
s_body_append (s_resp_t *r, size_t *cap, int c)
{
    if (r->body_len + 2 > *cap)
        r->body = realloc (r->body, *cap = *cap ? *cap * 2 : 1024);
    r->body[r->body_len++] = (char) c;
    r->body[r->body_len] = '\0';
}

/* Value of a response header (case-insensitive), copied into buf; NULL when absent. */
static const char *
s_header (const s_resp_t *r, const char *name, char *buf, size_t size)
{
    size_t n = strlen (name);
    for (const char *p = r->head ? strchr (r->head, '\n') : NULL; p && p[1]; p = strchr (p + 1, '\n')) {
        const char *line = p + 1;
        if (strncasecmp (line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn (v, "\r\n");
            if (len >= size)
                len = size - 1;
            memcpy (buf, v, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}

/* Reads one response: headers, then a Content-Length, chunked or until-close body. HEAD
 * responses have no body. Returns the status, or -1. */
static int
s_read_response (s_reader_t *rd, s_resp_t *r, bool head_request)
{
    memset (r, 0, sizeof *r);
    size_t hcap = 1024, hlen = 0;
    r->head = calloc (1, hcap);
    char *line;
    bool first = true;
    while ((line = s_line (rd)) != NULL) {
        size_t n = strlen (line);
        if (n == 0 && !first) {
            free (line);
            break;
        }
        while (hlen + n + 2 > hcap)
            r->head = realloc (r->head, hcap *= 2);
        memcpy (r->head + hlen, line, n);
        hlen += n;
        r->head[hlen++] = '\n';
        r->head[hlen] = '\0';
        if (first && sscanf (line, "HTTP/1.%*d %d", &r->status) != 1) {
            free (line);
            return -1;
        }
        first = false;
        free (line);
    }
    if (!line)
        return r->status ? r->status : -1;
    size_t cap = 0;
    s_body_append (r, &cap, 0);
    r->body_len = 0;
    char value[64];
    if (head_request || r->status == 204 || r->status == 304)
        return r->status;
    if (s_header (r, "Transfer-Encoding", value, sizeof value)
        && strcasecmp (value, "chunked") == 0) {
        for (;;) {
            char *size_line = s_line (rd);
            if (!size_line)
                return -1;
            size_t chunk = strtoul (size_line, NULL, 16);
            free (size_line);
            if (chunk == 0) {
                char *trailer;
                while ((trailer = s_line (rd)) != NULL && *trailer)
                    free (trailer);
                free (trailer);
                return r->status;
            }
            for (size_t i = 0; i < chunk; i++) {
                int c = s_getc (rd);
                if (c < 0)
                    return -1;
                s_body_append (r, &cap, c);
            }
            free (s_line (rd));
        }
    }
    if (s_header (r, "Content-Length", value, sizeof value)) {
        size_t n = strtoul (value, NULL, 10);
        for (size_t i = 0; i < n; i++) {
            int c = s_getc (rd);
            if (c < 0)
                return -1;
            s_body_append (r, &cap, c);
        }
        return r->status;
    }
    int c;
    while ((c = s_getc (rd)) >= 0)
        s_body_append (r, &cap, c);
    return r->status;
}

/* One request on a new connection. extra_headers: "Name: value\r\n…" or NULL. */
static int
s_http (int port, const char *method, const char *path, const char *extra_headers,
        const void *body, size_t len, s_resp_t *r)
{
    memset (r, 0, sizeof *r);
    int fd = s_connect (port);
    if (fd < 0)
        return -1;
    char head[4096];
    int n = snprintf (head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, extra_headers ? extra_headers : "", len);
    if (body == NULL && len == 0 && (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0))
        n = snprintf (head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", method,
                      path, extra_headers ? extra_headers : "");
    s_send_all (fd, head, (size_t) n);
    if (len)
        s_send_all (fd, body, len);
    s_reader_t *rd = calloc (1, sizeof *rd);
    rd->fd = fd;
    int status = s_read_response (rd, r, strcmp (method, "HEAD") == 0);
    free (rd);
    close (fd);
    return status;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int
s_get (int port, const char *path, s_resp_t *r)
{
    return s_http (port, "GET", path, NULL, NULL, 0, r);
}

static json_t *
s_json (const s_resp_t *r)
{
    json_t *j = json_loads (r->body ? r->body : "", 0, NULL);
    if (!j)
        fail_msg ("not JSON: %s", r->body ? r->body : "(null)");
    return j;
}

/* A readiness check reading a flag another thread sets, as the header asks. */
typedef struct {
    atomic_bool ok;
    const char *reason;
    atomic_int calls;
} s_flag_t;

static bool
s_flag_check (void *arg, char *why, size_t why_size)
{
    s_flag_t *f = arg;
    atomic_fetch_add (&f->calls, 1);
    if (atomic_load (&f->ok))
        return true;
    if (f->reason)
        snprintf (why, why_size, "%s", f->reason);
    return false;
}

static pl_ops_t *
s_ops (pl_metrics_t *metrics)
{
    pl_ops_t *ops = pl_ops_new ("127.0.0.1", 0, metrics);
    assert_non_null (ops);
    assert_true (pl_ops_port (ops) > 0);
    return ops;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void
test_healthz_answers_ok (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    s_resp_t r;
    assert_int_equal (s_get (pl_ops_port (ops), "/healthz", &r), 200);
    assert_string_equal (r.body, "{\"status\":\"ok\"}");
    char value[64];
    assert_string_equal (s_header (&r, "Content-Type", value, sizeof value), "application/json");
    assert_string_equal (s_header (&r, "Cache-Control", value, sizeof value), "no-store");
    s_resp_free (&r);
    assert_int_equal (s_http (pl_ops_port (ops), "HEAD", "/healthz", NULL, NULL, 0, &r), 200);
    assert_int_equal (r.body_len, 0);
    s_resp_free (&r);
    pl_ops_destroy (&ops);
    assert_null (ops);
    pl_ops_destroy (&ops);
}

static void
test_readiness_follows_its_checks_without_restart (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    int port = pl_ops_port (ops);
    s_flag_t redis = { .reason = "connection refused" };
    s_flag_t bus = { .reason = NULL };
    atomic_store (&redis.ok, true);
    atomic_store (&bus.ok, true);
    s_resp_t r;
    /* No checks yet: ready. */
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    s_resp_free (&r);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), 0);
    assert_int_equal (pl_ops_add_check (ops, "bus", s_flag_check, &bus), 0);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), PL_EEXIST);
    assert_int_equal (pl_ops_add_check (ops, "", s_flag_check, &redis), PL_EINVAL);

    assert_int_equal (s_get (port, "/readyz", &r), 200);
    assert_string_equal (r.body, "{\"status\":\"ready\",\"checks\":[\"redis\",\"bus\"]}");
    s_resp_free (&r);

    /* Redis goes away. */
    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    json_t *j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "status")), "not_ready");
    assert_true (json_is_false (json_object_get (j, "draining")));
    json_t *failing = json_object_get (j, "failing");
    assert_int_equal (json_array_size (failing), 1);
    json_t *f0 = json_array_get (failing, 0);
    assert_string_equal (json_string_value (json_object_get (f0, "check")), "redis");
    assert_string_equal (json_string_value (json_object_get (f0, "reason")), "connection refused");
    json_t *err = json_object_get (j, "error");
    assert_string_equal (json_string_value (json_object_get (err, "code")), "not_ready");
    assert_string_equal (json_string_value (json_object_get (err, "message")),
                         "not ready: redis: connection refused");
    json_decref (j);
    s_resp_free (&r);

    /* Both fail; a check that gives no reason still gets one. */
    atomic_store (&bus.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    j = s_json (&r);
    failing = json_object_get (j, "failing");
    assert_int_equal (json_array_size (failing), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (failing, 1), "reason")),
                         "check failed");
    assert_non_null (strstr (json_string_value (json_object_get (json_object_get (j, "error"),
                                                                 "message")), "and 1 more"));
    json_decref (j);
    s_resp_free (&r);

    /* They come back: 200 again, same process, same port. */
    atomic_store (&redis.ok, true);
    atomic_store (&bus.ok, true);
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    s_resp_free (&r);
    /* Liveness never depended on readiness. */
    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/healthz", &r), 200);
    s_resp_free (&r);
    /* Checks run at each probe, not from a cache. */
    int before = atomic_load (&redis.calls);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    s_resp_free (&r);
    assert_int_equal (atomic_load (&redis.calls), before + 1);
    pl_ops_destroy (&ops);
}

static void
test_draining_makes_readiness_fail_until_undone (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    int port = pl_ops_port (ops);
    s_flag_t redis = { .reason = "timeout" };
    atomic_store (&redis.ok, true);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), 0);
    assert_false (pl_ops_draining (ops));
    pl_ops_set_draining (ops, true);
    assert_true (pl_ops_draining (ops));
    s_resp_t r;
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    json_t *j = s_json (&r);
    assert_true (json_is_true (json_object_get (j, "draining")));
    assert_string_equal (json_string_value (json_object_get (j, "status")), "draining");
    assert_int_equal (json_array_size (json_object_get (j, "failing")), 0);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "draining");
    json_decref (j);
    s_resp_free (&r);
    /* Draining and failing: both said. */
    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    j = s_json (&r);
    assert_true (json_is_true (json_object_get (j, "draining")));
    assert_int_equal (json_array_size (json_object_get (j, "failing")), 1);
    json_decref (j);
    s_resp_free (&r);
    /* Health stays green while draining: the pod is not to be restarted. */
    assert_int_equal (s_get (port, "/healthz", &r), 200);
    s_resp_free (&r);
    atomic_store (&redis.ok, true);
    pl_ops_set_draining (ops, false);
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    s_resp_free (&r);
    pl_ops_destroy (&ops);
}

static void
test_metrics_serves_the_registry_in_text_format (void **state)
{
    (void) state;
    pl_metrics_t *metrics = pl_metrics_new ();
    pl_metric_t *c = pl_metrics_counter (metrics, "plateau_test_leads_total", "Leads.", "status");
    const double bounds[] = { 0.5 };
    pl_metric_t *h = pl_metrics_histogram (metrics, "plateau_test_seconds", "Time.", NULL,
                                           bounds, 1);
    pl_metric_inc (c, "accepted", 3);
    pl_metric_observe (h, NULL, 0.25);
    pl_ops_t *ops = s_ops (metrics);
    s_resp_t r;
    assert_int_equal (s_get (pl_ops_port (ops), "/metrics", &r), 200);
    char value[128];
    assert_non_null (s_header (&r, "Content-Type", value, sizeof value));
    assert_int_equal (strncmp (value, "text/plain; version=0.0.4", 25), 0);
    assert_string_equal (r.body,
        "# HELP plateau_test_leads_total Leads.\n"
        "# TYPE plateau_test_leads_total counter\n"
        "plateau_test_leads_total{status=\"accepted\"} 3\n"
        "# HELP plateau_test_seconds Time.\n"
        "# TYPE plateau_test_seconds histogram\n"
        "plateau_test_seconds_bucket{le=\"0.5\"} 1\n"
        "plateau_test_seconds_bucket{le=\"+Inf\"} 1\n"
        "plateau_test_seconds_sum 0.25\n"
        "plateau_test_seconds_count 1\n");
    s_resp_free (&r);
    /* Live: an update shows on the next scrape. */
    pl_metric_inc (c, "accepted", 1);
    assert_int_equal (s_get (pl_ops_port (ops), "/metrics", &r), 200);
    assert_non_null (strstr (r.body, "plateau_test_leads_total{status=\"accepted\"} 4\n"));
    s_resp_free (&r);
    pl_ops_destroy (&ops);
    pl_metrics_destroy (&metrics);

    /* Without a registry: an empty page. */
    ops = s_ops (NULL);
    assert_int_equal (s_get (pl_ops_port (ops), "/metrics", &r), 200);
    assert_int_equal (r.body_len, 0);
    s_resp_free (&r);
    pl_ops_destroy (&ops);
}

static void
test_other_paths_and_methods_get_json_errors (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    s_resp_t r;
    assert_int_equal (s_get (pl_ops_port (ops), "/status", &r), 404);
    json_t *j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "not_found");
    json_decref (j);
    s_resp_free (&r);
    assert_int_equal (s_http (pl_ops_port (ops), "POST", "/readyz", NULL, "{}", 2, &r), 405);
    j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "method_not_allowed");
    json_decref (j);
    char allow[32];
    assert_string_equal (s_header (&r, "Allow", allow, sizeof allow), "GET, HEAD");
    s_resp_free (&r);
    pl_ops_destroy (&ops);
}

static void
test_two_ports_side_by_side_and_a_taken_port_fails (void **state)
{
    (void) state;
    pl_ops_t *a = s_ops (NULL);
    pl_ops_t *b = s_ops (NULL);
    assert_int_not_equal (pl_ops_port (a), pl_ops_port (b));
    pl_ops_set_draining (a, true);
    s_resp_t r;
    assert_int_equal (s_get (pl_ops_port (a), "/readyz", &r), 503);
    s_resp_free (&r);
    assert_int_equal (s_get (pl_ops_port (b), "/readyz", &r), 200);
    s_resp_free (&r);
    errno = 0;
    pl_ops_t *c = pl_ops_new ("127.0.0.1", pl_ops_port (a), NULL);
    assert_null (c);
    assert_int_equal (errno, EADDRINUSE);
    pl_ops_destroy (&a);
    pl_ops_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_healthz_answers_ok),
        cmocka_unit_test (test_readiness_follows_its_checks_without_restart),
        cmocka_unit_test (test_draining_makes_readiness_fail_until_undone),
        cmocka_unit_test (test_metrics_serves_the_registry_in_text_format),
        cmocka_unit_test (test_other_paths_and_methods_get_json_errors),
        cmocka_unit_test (test_two_ports_side_by_side_and_a_taken_port_fails),
    };
    return cmocka_run_group_tests_name ("ops", tests, NULL, NULL);
}
