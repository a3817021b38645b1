/*  test_sec_http_flood.c — a connection flood is answered, never reset.
 *
 *  Five hundred connections each send an upload at once to a kit HTTP server limited to 16
 *  connections, whose handler takes a fifth of a second. Before, libmicrohttpd closed every
 *  connection beyond its limit and a few spare at accept, and those clients saw resets; now
 *  each one gets a status: 200, or 503 busy with Retry-After. Meanwhile a well-behaved client
 *  keeps getting answers from the API, and the ops port's /healthz stays 200.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "plateau/clock.h"
#include "plateau/http.h"
#include "plateau/ops.h"
#include "pl_test_http.h"

#define S_CONNECTIONS 500
#define S_MAX_CONNECTIONS 16
#define S_BODY (32 * 1024)
#define S_DEADLINE_MS 45000

static void
s_sleep_ms (int ms)
{
    struct timespec t = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&t, NULL);
}

static int
s_upload (pl_http_req_t *req, void *arg)
{
    (void) arg;
    s_sleep_ms (200);
    char json[64];
    snprintf (json, sizeof json, "{\"len\":%zu}", pl_http_req_body_size (req));
    return pl_http_reply_json (req, 200, json);
}

static int
s_ping (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return pl_http_reply_json (req, 200, "{\"ok\":true}");
}

/* ---- the flood: one thread, non-blocking sockets ------------------------------------------ */

typedef struct {
    int fd;
    size_t sent;                     /* of head + body */
    char in[8192];
    size_t got;
    bool done;
    bool reset;                      /* ECONNRESET / EPIPE / refused */
} s_conn_t;

typedef struct {
    int ok, busy, busy_without_retry, other, reset, no_answer;
} s_counts_t;

static int
s_connect_nonblocking (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &a, sizeof a) < 0 && errno != EINPROGRESS) {
        close (fd);
        return -1;
    }
    return fd;
}

static bool
s_is_reset (int err)
{
    return err == ECONNRESET || err == EPIPE || err == ECONNREFUSED || err == ECONNABORTED;
}

/* Sends and reads on every connection at once until all have ended or the deadline. */
static void
s_flood (int port, s_counts_t *counts)
{
    static s_conn_t conns[S_CONNECTIONS];
    static struct pollfd pfds[S_CONNECTIONS];
    static char body[S_BODY];
    memset (body, 'b', sizeof body);
    char head[256];
    int head_len = snprintf (head, sizeof head, "POST /v1/upload HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: text/plain\r\nContent-Length: %d\r\n"
                             "Connection: close\r\n\r\n", S_BODY);
    size_t total = (size_t) head_len + S_BODY;
    for (int i = 0; i < S_CONNECTIONS; i++) {
        memset (&conns[i], 0, sizeof conns[i]);
        conns[i].fd = s_connect_nonblocking (port);
        if (conns[i].fd < 0)
            conns[i].done = conns[i].reset = true;
    }
    int64_t deadline = pl_clock_mono_ms () + S_DEADLINE_MS;
    for (;;) {
        nfds_t n = 0;
        int map[S_CONNECTIONS];
        for (int i = 0; i < S_CONNECTIONS; i++) {
            if (conns[i].done)
                continue;
            pfds[n].fd = conns[i].fd;
            pfds[n].events = POLLIN | (conns[i].sent < total ? POLLOUT : 0);
            pfds[n].revents = 0;
            map[n++] = i;
        }
        if (n == 0 || pl_clock_mono_ms () > deadline)
            break;
        if (poll (pfds, n, 100) <= 0)
            continue;
        for (nfds_t k = 0; k < n; k++) {
            s_conn_t *c = &conns[map[k]];
            if (pfds[k].revents & POLLOUT && c->sent < total) {
                const char *from = c->sent < (size_t) head_len ? head + c->sent
                                                               : body + (c->sent - head_len);
                size_t len = c->sent < (size_t) head_len ? (size_t) head_len - c->sent
                                                         : total - c->sent;
                ssize_t w = send (c->fd, from, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0)
                    c->sent += (size_t) w;
                else if (w < 0 && s_is_reset (errno))
                    c->done = c->reset = true;
            }
            if (!c->done && pfds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                char sink[4096];
                char *to = c->got < sizeof c->in - 1 ? c->in + c->got : sink;
                size_t room = c->got < sizeof c->in - 1 ? sizeof c->in - 1 - c->got : sizeof sink;
                ssize_t r = recv (c->fd, to, room, MSG_DONTWAIT);
                if (r > 0 && to != sink)
                    c->got += (size_t) r;
                else if (r == 0)
                    c->done = true;
                else if (r < 0 && s_is_reset (errno))
                    c->done = c->reset = true;
            }
            if (c->done) {                  /* as a client does once it has its answer */
                close (c->fd);
                c->fd = -1;
            }
        }
    }
    for (int i = 0; i < S_CONNECTIONS; i++) {
        s_conn_t *c = &conns[i];
        if (c->fd >= 0)
            close (c->fd);
        c->in[c->got] = '\0';
        int status = 0;
        if (strncmp (c->in, "HTTP/1.1 ", 9) == 0)
            status = atoi (c->in + 9);
        if (c->reset)
            counts->reset++;
        else if (!c->done || status == 0)
            counts->no_answer++;
        else if (status == 200)
            counts->ok++;
        else if (status == 503 && strstr (c->in, "\"code\":\"busy\"")) {
            counts->busy++;
            bool retry = false;
            char *end = strstr (c->in, "\r\n\r\n");
            for (char *p = strstr (c->in, "\r\n"); p && p < end; p = strstr (p + 2, "\r\n"))
                if (strncasecmp (p + 2, "Retry-After:", 12) == 0 && atoi (p + 14) >= 1)
                    retry = true;
            if (!retry)
                counts->busy_without_retry++;
        }
        else {
            fprintf (stderr, "unexpected answer: %.200s\n", c->in);
            counts->other++;
        }
    }
}

/* ---- the well-behaved client and the probe ------------------------------------------------ */

typedef struct {
    int api_port, ops_port;
    atomic_bool stop;
    int ok, busy, failed, healthz_ok, healthz_bad;
} s_polite_t;

static void *
s_polite_run (void *arg)
{
    s_polite_t *p = arg;
    while (!atomic_load (&p->stop)) {
        pl_test_http_resp_t r = { 0 };
        int status = pl_test_http_request (p->api_port, "GET", "/v1/ping", NULL, NULL, 0, &r);
        char retry[16];
        if (status == 200)
            p->ok++;
        else if (status == 503 && pl_test_http_header (&r, "Retry-After", retry, sizeof retry))
            p->busy++;
        else
            p->failed++;
        pl_test_http_resp_free (&r);
        status = pl_test_http_request (p->ops_port, "GET", "/healthz", NULL, NULL, 0, &r);
        pl_test_http_resp_free (&r);
        if (status == 200)
            p->healthz_ok++;
        else
            p->healthz_bad++;
        s_sleep_ms (50);
    }
    return NULL;
}

static void
test_flood_of_uploads_is_answered_200_or_503_never_reset (void **state)
{
    (void) state;
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    pl_http_options_t o = { .max_connections = S_MAX_CONNECTIONS };
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, &o);
    assert_non_null (http);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/v1/upload", s_upload, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/ping", s_ping, NULL, &open), 0);
    assert_int_equal (pl_http_start (http), 0);
    pl_ops_t *ops = pl_ops_new ("127.0.0.1", 0, NULL);
    assert_non_null (ops);

    s_polite_t polite = { .api_port = pl_http_port (http), .ops_port = pl_ops_port (ops) };
    atomic_init (&polite.stop, false);
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_polite_run, &polite), 0);

    s_counts_t counts = { 0 };
    int64_t start = pl_clock_mono_ms ();
    s_flood (pl_http_port (http), &counts);
    int64_t took = pl_clock_mono_ms () - start;
    atomic_store (&polite.stop, true);
    pthread_join (thread, NULL);

    fprintf (stderr, "%d concurrent uploads against max_connections=%d (in %lld ms): "
             "%d answered 200, %d answered 503 busy (%d without Retry-After), %d other status, "
             "%d reset, %d closed or timed out without an answer\n",
             S_CONNECTIONS, S_MAX_CONNECTIONS, (long long) took, counts.ok, counts.busy,
             counts.busy_without_retry, counts.other, counts.reset, counts.no_answer);
    fprintf (stderr, "well-behaved client meanwhile: %d answered 200, %d 503 busy, %d failed; "
             "/healthz: %d ok, %d not\n", polite.ok, polite.busy, polite.failed,
             polite.healthz_ok, polite.healthz_bad);

    assert_int_equal (counts.reset, 0);
    assert_int_equal (counts.no_answer, 0);
    assert_int_equal (counts.other, 0);
    assert_int_equal (counts.ok + counts.busy, S_CONNECTIONS);
    assert_true (counts.ok >= S_MAX_CONNECTIONS);       /* the server kept working */
    assert_true (counts.busy > 0);                      /* and it was saturated */
    assert_int_equal (counts.busy_without_retry, 0);
    assert_int_equal (polite.failed, 0);
    assert_true (polite.ok + polite.busy > 0);
    assert_int_equal (polite.healthz_bad, 0);

    /* Once it is over the API answers at once. */
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/ping", NULL, NULL,
                                            0, &r), 200);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
    pl_http_destroy (&http);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_flood_of_uploads_is_answered_200_or_503_never_reset),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
