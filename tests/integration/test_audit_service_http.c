/*  test_audit_service_http.c — plateau-audit's HTTP API and plateauctl audit on real data:
 *  query filters, pagination, NDJSON, authentication (401/403), numbers shown only to auditors
 *  and every such read recorded; exports by arrival that never skip a late event; impossible
 *  dates refused on every time parameter;
 *  acceptance 4 (why tells the whole story; erasure leaves verify green and the number
 *  unreadable); and verify on a tampered data directory (exit 1, first bad seq named).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include "plateau/audit_emit.h"
#include "test_audit_service_fixture.h"

#define NUM_A "+33612345678"
#define NUM_B "+14155550100"
#define T0 1764403200000LL          /* 2025-11-29T08:00:00Z */
#define AUTH "Authorization: Bearer " AX_TOKEN "\r\n"
#define AUTH_CRM "Authorization: Bearer " AX_TOKEN_CRM "\r\n"

static int
s_get (ax_t *f, const char *path, const char *headers, pl_test_http_resp_t *resp)
{
    return pl_test_http_request (f->http_port, "GET", path, headers, NULL, 0, resp);
}

/* The number of items of a JSON page, or -1. */
static int
s_items (ax_t *f, const char *path, const char *headers, char **cursor)
{
    pl_test_http_resp_t resp = { 0 };
    int n = -1;
    if (s_get (f, path, headers, &resp) == 200) {
        json_t *j = json_loads (resp.body, 0, NULL);
        n = (int) json_array_size (json_object_get (j, "items"));
        if (cursor) {
            const char *c = json_string_value (json_object_get (j, "next_cursor"));
            *cursor = c ? strdup (c) : NULL;
        }
        json_decref (j);
    }
    pl_test_http_resp_free (&resp);
    return n;
}

static bool
s_indexed (void *arg)
{
    return s_items (arg, "/v1/audit?limit=1000", AUTH_CRM, NULL) == 8;
}

static bool
s_indexed9 (void *arg)
{
    return s_items (arg, "/v1/audit?campaign=c9", AUTH_CRM, NULL) == 1;
}

/* Sends the story of two people: 5 events about NUM_A (lead L1, campaign c1), 3 about NUM_B. */
static ax_t *
s_setup (void)
{
    ax_t *f = ax_new ();
    assert_non_null (f);
    assert_true (ax_start (f, NULL) > 0);
    ax_connect (f);
    assert_non_null (f->client);
    static const char *types_a[] = { "lead.accepted", "scrub.cleared", "dial.allowed", "call.outcome", "dial.denied" };
    char id[32];
    for (int i = 0; i < 5; i++) {
        snprintf (id, sizeof id, "EV-A-%d", i);
        pl_envelope_t env;
        pl_envelope_ids_t ids;
        pl_envelope_init (&env, &ids, "test", f->clock, NULL);
        Plateau__V1__AuditEvent ev;
        Plateau__V1__RuleHit rule = PLATEAU__V1__RULE_HIT__INIT, *rules[] = { &rule };
        rule.rule_id = "fr.hours";
        rule.value = "10:00-13:00,14:00-20:00";
        rule.zone = "Europe/Paris";
        pl_audit_event_init (&ev, i == 0 ? "intake" : "dialer", types_a[i], id, T0 + i * 3600000LL);
        ev.lead_id = "L1";
        ev.campaign = "c1";
        ev.number = NUM_A;
        ev.zone = "Europe/Paris";
        ev.reason = "test story";
        ev.decision = i == 4 ? PLATEAU__V1__DECISION__DENY : PLATEAU__V1__DECISION__ALLOW;
        if (i >= 2) {
            ev.n_rules = 1;
            ev.rules = rules;
        }
        env.body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
        env.audit_event = &ev;
        pl_envelope_t *p = &env;
        assert_int_equal (pl_bus_client_send (f->client, &p, 1), 0);
    }
    for (int i = 0; i < 3; i++) {
        snprintf (id, sizeof id, "EV-B-%d", i);
        assert_int_equal (ax_send (f, id, "lead.accepted", "L2", NUM_B, "c2", T0 + i * 1000, "b"), 0);
    }
    ax_pump (f, 10000, true);
    assert_int_equal (pl_bus_client_inflight (f->client), 0);
    assert_true (pl_test_wait_until (s_indexed, f, 10000));
    return f;
}

static void
test_query_filters_pages_and_formats (void **state)
{
    ax_t *f = s_setup ();
    assert_int_equal (s_items (f, "/v1/audit?lead=L1", AUTH, NULL), 5);
    assert_int_equal (s_items (f, "/v1/audit?number=%2B33612345678", AUTH, NULL), 5);
    assert_int_equal (s_items (f, "/v1/audit?campaign=c2", AUTH, NULL), 3);
    assert_int_equal (s_items (f, "/v1/audit?type=dial.allowed", AUTH, NULL), 1);
    assert_int_equal (s_items (f, "/v1/audit?lead=L1&from=2025-11-29T09:00:00Z&to=1764414000000", AUTH, NULL), 2);
    /* Pages of 2 with a cursor: 5 records in 3 pages, none twice. */
    char *cursor = NULL, path[1024];
    int total = 0, pages = 0;
    total += s_items (f, "/v1/audit?lead=L1&limit=2", AUTH, &cursor);
    pages++;
    while (cursor && pages < 10) {
        char enc[700] = "";
        size_t o = 0;
        for (const char *c = cursor; *c && o + 4 < sizeof enc; c++)
            o += (size_t) snprintf (enc + o, sizeof enc - o, isalnum ((unsigned char) *c) ? "%c" : "%%%02X",
                                    isalnum ((unsigned char) *c) ? *c : (unsigned char) *c);
        snprintf (path, sizeof path, "/v1/audit?lead=L1&limit=2&cursor=%s", enc);
        free (cursor);
        total += s_items (f, path, AUTH, &cursor);
        pages++;
    }
    assert_int_equal (total, 5);
    assert_int_equal (pages, 3);
    /* NDJSON by format= and by Accept. */
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (s_get (f, "/v1/audit?campaign=c2&format=ndjson", AUTH, &resp), 200);
    int lines = 0;
    for (char *p = resp.body; (p = strchr (p, '\n')); p++)
        lines++;
    assert_int_equal (lines, 3);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit?campaign=c2", AUTH "Accept: application/x-ndjson\r\n", &resp), 200);
    assert_non_null (strstr (resp.head, "application/x-ndjson"));
    pl_test_http_resp_free (&resp);
    /* Bad input. */
    assert_int_equal (s_get (f, "/v1/audit?number=0612", AUTH, &resp), 400);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit?from=yesterday", AUTH, &resp), 400);
    pl_test_http_resp_free (&resp);
    ax_destroy (&f);
}

static void
test_tokens_and_readers (void **state)
{
    ax_t *f = s_setup ();
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (s_get (f, "/v1/audit", NULL, &resp), 401);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit", "Authorization: Bearer not-a-known-token-at-all\r\n", &resp), 401);
    pl_test_http_resp_free (&resp);
    /* crm-a may query by campaign and sees pseudonyms only; asking about a person (a number,
     * a lead, its story) is for readers: 403, so that it cannot learn whom the audit knows.
     * ops (a reader) sees the number. */
    assert_int_equal (s_get (f, "/v1/audit?campaign=c1", AUTH_CRM, &resp), 200);
    assert_null (strstr (resp.body, NUM_A));
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit?lead=L1", AUTH_CRM, &resp), 403);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit?number=%2B33612345678", AUTH_CRM, &resp), 403);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit?number=%2B33699999999", AUTH_CRM, &resp), 403);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit/why?number=%2B33612345678", AUTH_CRM, &resp), 403);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit?lead=L1", AUTH, &resp), 200);
    assert_non_null (strstr (resp.body, NUM_A));
    pl_test_http_resp_free (&resp);
    /* Erasure only for erasers: 403. */
    const char *body = "{\"number\":\"" NUM_A "\"}";
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/audit/erasure",
                                            AUTH_CRM "Content-Type: application/json\r\n", body,
                                            strlen (body), &resp), 403);
    pl_test_http_resp_free (&resp);
    /* The public key needs no token and is the one published. */
    assert_int_equal (s_get (f, "/v1/audit/public-key", NULL, &resp), 200);
    FILE *fp = fopen (f->pub, "r");
    char hex[80] = "";
    assert_non_null (fp);
    assert_true (fscanf (fp, "%79s", hex) == 1);
    fclose (fp);
    assert_non_null (strstr (resp.body, hex));
    pl_test_http_resp_free (&resp);
    ax_destroy (&f);
}

/* True when some file under dir contains needle. */
static bool
s_tree_has (const char *dir, const char *needle)
{
    DIR *d = opendir (dir);
    struct dirent *e;
    bool found = false;
    while (d && !found && (e = readdir (d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat (path, &st) != 0)
            continue;
        found = S_ISDIR (st.st_mode) ? s_tree_has (path, needle) : pl_test_file_has (path, needle);
    }
    if (d)
        closedir (d);
    return found;
}

static void
test_why_tells_the_story_and_erasure_keeps_verify_green (void **state)
{
    ax_t *f = s_setup ();
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", f->http_port);
    char *out = NULL;
    char *why[] = { "audit", "why", NUM_A, "--url", url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (why, &out), 0);
    printf ("%s", out);
    assert_non_null (strstr (out, "fr.hours"));          /* rules cited */
    assert_non_null (strstr (out, "09:00"));             /* 08:00Z in Paris local time */
    assert_non_null (strstr (out, "L1"));
    free (out);
    char *why_lead[] = { "audit", "why", "L2", "--url", url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (why_lead, &out), 0);
    free (out);

    /* Erase the person of NUM_A. */
    pl_test_http_resp_t resp = { 0 };
    const char *body = "{\"number\":\"" NUM_A "\",\"request_id\":\"ERASE-1\"}";
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/audit/erasure",
                                            AUTH "Content-Type: application/json\r\n", body,
                                            strlen (body), &resp), 200);
    pl_test_http_resp_free (&resp);
    /* Even a reader no longer sees the number; the erasure is itself on record. */
    assert_int_equal (s_get (f, "/v1/audit?lead=L1", AUTH, &resp), 200);
    assert_null (strstr (resp.body, NUM_A));
    assert_non_null (strstr (resp.body, "erased"));
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_items (f, "/v1/audit?type=person.erased", AUTH, NULL), 1);
    /* verify, through the API and on the files */
    char *verify_url[] = { "audit", "verify", "--url", url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (verify_url, NULL), 0);
    assert_int_equal (pl_test_stop (f->pid, SIGTERM, 20000), 0);
    f->pid = 0;
    char *verify[] = { "audit", "verify", "--data", f->data, "--key", f->pub, NULL };
    assert_int_equal (ax_ctl (verify, &out), 0);
    assert_non_null (strstr (out, "erased"));
    free (out);
    /* Not in clear in any file of the data directory. */
    assert_false (s_tree_has (f->data, NUM_A));
    assert_false (s_tree_has (f->data, NUM_A + 1));
    ax_destroy (&f);
}

static void
test_verify_names_the_first_bad_record_of_a_tampered_log (void **state)
{
    ax_t *f = s_setup ();
    assert_int_equal (pl_test_stop (f->pid, SIGTERM, 20000), 0);
    f->pid = 0;
    char *out = NULL;
    char *verify[] = { "audit", "verify", "--data", f->data, "--key", f->pub, NULL };
    assert_int_equal (ax_ctl (verify, NULL), 0);
    /* One byte of the first record's body (its at_ms) changed: 128-byte segment header,
     * 16-byte frame head, then seq (8 bytes). */
    char seg[1024];
    snprintf (seg, sizeof seg, "%s/audit-0/seg-00000000000000000000.plaud", f->data);
    int fd = open (seg, O_RDWR);
    assert_true (fd >= 0);
    unsigned char b;
    assert_int_equal (pread (fd, &b, 1, 128 + 16 + 8), 1);
    b ^= 0x01;
    assert_int_equal (pwrite (fd, &b, 1, 128 + 16 + 8), 1);
    close (fd);
    assert_int_equal (ax_ctl (verify, &out), 1);
    printf ("%s", out);
    assert_non_null (strstr (out, "FAILED at seq 0"));
    free (out);
    ax_destroy (&f);
}

static void
test_bad_events_are_nacked_for_good_and_never_written (void **state)
{
    ax_t *f = s_setup ();
    /* No event id: INVALID. Over 64 KiB: TOO_LARGE. Both go to the sender's dead letters. */
    assert_int_equal (ax_send (f, "", "lead.accepted", "L9", NULL, "c9", T0, "no id"), 0);
    char *big = malloc (70 * 1024 + 1);
    memset (big, 'z', 70 * 1024);
    big[70 * 1024] = '\0';
    assert_int_equal (ax_send (f, "EV-BIG", "lead.accepted", "L9", NULL, "c9", T0, big), 0);
    free (big);
    assert_int_equal (ax_send (f, "EV-OK", "lead.accepted", "L9", NULL, "c9", T0, "fine"), 0);
    ax_pump (f, 10000, true);
    assert_int_equal (pl_bus_client_inflight (f->client), 0);
    assert_int_equal (pl_bus_client_count (f->client, "dead"), 2);
    char *metrics = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &metrics), 200);
    assert_non_null (strstr (metrics, "plateau_audit_events_total{outcome=\"invalid\"} 1"));
    assert_non_null (strstr (metrics, "plateau_audit_events_total{outcome=\"too_large\"} 1"));
    assert_non_null (strstr (metrics, "plateau_audit_fsync_seconds_count"));
    assert_non_null (strstr (metrics, "plateau_audit_chain_length"));
    free (metrics);
    /* Only the good one is on record. */
    assert_true (pl_test_wait_until (s_indexed9, f, 10000));
    ax_destroy (&f);
}

/* GET path with headers, the body as JSON (NULL unless 200). */
static json_t *
s_json (ax_t *f, const char *path, const char *headers)
{
    pl_test_http_resp_t resp = { 0 };
    json_t *j = NULL;
    if (s_get (f, path, headers, &resp) == 200)
        j = json_loads (resp.body, 0, NULL);
    pl_test_http_resp_free (&resp);
    return j;
}

static void
test_impossible_dates_get_400_from_every_time_parameter (void **state)
{
    ax_t *f = s_setup ();
    static const char *bad[] = {
        "/v1/audit?from=2026-02-30T00:00:00Z",
        "/v1/audit?to=2026-02-30T00:00:00Z",
        "/v1/audit?from=2026-04-31T10:00:00%2B02:00",
        "/v1/audit/export?from=2026-02-30T00:00:00Z&to=2026-03-02T00:00:00Z",
        "/v1/audit/export?from=2026-02-01T00:00:00Z&to=2026-02-30T00:00:00Z",
        "/v1/audit/export?from=2025-02-29T00:00:00Z&to=2026-03-02T00:00:00Z",
    };
    pl_test_http_resp_t resp = { 0 };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal (s_get (f, bad[i], AUTH, &resp), 400);
        assert_non_null (strstr (resp.body, "\"invalid\""));
        pl_test_http_resp_free (&resp);
    }
    /* The real last day of February is a date like any other. */
    assert_int_equal (s_get (f, "/v1/audit?from=2025-11-29T00:00:00Z&to=2026-02-28T00:00:00Z",
                             AUTH_CRM, &resp), 200);
    pl_test_http_resp_free (&resp);
    ax_destroy (&f);
}

/* Seq of the audit.export records among items, their access facts in *access (the last). */
static int
s_exports (json_t *items, json_t **access)
{
    int n = 0;
    size_t i;
    json_t *o;
    json_array_foreach (items, i, o)
        if (strcmp (json_string_value (json_object_get (o, "type")), "audit.export") == 0) {
            n++;
            *access = json_object_get (json_object_get (o, "evidence"), "access");
        }
    return n;
}

static bool
s_range_read_recorded (void *arg)
{
    json_t *j = s_json (arg, "/v1/audit/export?chain=audit-0&from_seq=10", AUTH_CRM);
    json_t *access = NULL;
    bool found = j && s_exports (json_object_get (j, "items"), &access) == 1;
    json_decref (j);
    return found;
}

static bool
s_late_arrived (void *arg)
{
    json_t *j = s_json (arg, "/v1/audit/export?chain=audit-0&from_seq=8", AUTH_CRM);
    bool found = false;
    size_t i;
    json_t *o;
    json_array_foreach (json_object_get (j, "items"), i, o)
        found |= strcmp (json_string_value (json_object_get (o, "event_id")), "EV-LATE") == 0;
    json_decref (j);
    return found;
}

static void
test_auditors_export_by_arrival_and_every_read_in_clear_is_recorded (void **state)
{
    ax_t *f = s_setup ();
    /* A token without the auditor role reads the chain by arrival, pseudonyms only, and that
     * read is not one to record. */
    json_t *j = s_json (f, "/v1/audit/export?chain=audit-0&from_seq=0", AUTH_CRM);
    assert_non_null (j);
    assert_int_equal (json_array_size (json_object_get (j, "items")), 8);
    assert_int_equal (json_integer_value (json_object_get (j, "next_seq")), 8);
    char *text = json_dumps (j, 0);
    assert_null (strstr (text, NUM_A));
    free (text);
    json_decref (j);

    /* The auditor reads five records with numbers in clear: the read is on record first. */
    j = s_json (f, "/v1/audit/export?chain=audit-0&from_seq=0&limit=5", AUTH);
    assert_non_null (j);
    json_t *items = json_object_get (j, "items");
    assert_int_equal (json_array_size (items), 5);
    assert_int_equal (json_integer_value (json_object_get (j, "next_seq")), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal (json_integer_value (json_object_get (json_array_get (items, i), "seq")), i);
    /* Arrival order between the two people is not fixed: each record shows its own number. */
    for (size_t i = 0; i < 5; i++) {
        json_t *it = json_array_get (items, i);
        const char *eid = json_string_value (json_object_get (it, "event_id"));
        assert_string_equal (json_string_value (json_object_get (it, "number")),
                             strncmp (eid, "EV-A-", 5) == 0 ? NUM_A : NUM_B);
    }
    json_decref (j);

    /* An event that arrives late (decided yesterday) still gets the next seq: resuming from
     * next_seq finds it, after the record of the auditor's read. */
    assert_int_equal (ax_send (f, "EV-LATE", "lead.accepted", "L3", NUM_B, "c3", T0 - 86400000LL,
                               "late"), 0);
    ax_pump (f, 10000, true);
    assert_true (pl_test_wait_until (s_late_arrived, f, 10000));
    j = s_json (f, "/v1/audit/export?chain=audit-0&from_seq=5", AUTH_CRM);
    items = json_object_get (j, "items");
    assert_int_equal (json_array_size (items), 5);      /* seq 5..7, the export record, EV-LATE */
    json_t *access = NULL;
    assert_int_equal (s_exports (items, &access), 1);
    assert_string_equal (json_string_value (json_object_get (access, "reader")), "ops");
    assert_string_equal (json_string_value (json_object_get (access, "role")), "auditor");
    assert_string_equal (json_string_value (json_object_get (access, "chain")), "audit-0");
    assert_int_equal (json_integer_value (json_object_get (access, "records")), 5);
    assert_true (json_is_true (json_object_get (access, "numbers_in_clear")));
    assert_string_equal (json_string_value (json_object_get (json_array_get (items, 4), "event_id")),
                         "EV-LATE");
    assert_int_equal (json_integer_value (json_object_get (j, "next_seq")), 10);
    json_decref (j);

    /* A time range as an auditor: in clear, and recorded with the range read. */
    j = s_json (f, "/v1/audit/export?from=2025-11-29T00:00:00Z&to=2025-11-30T00:00:00Z", AUTH);
    assert_non_null (j);
    assert_int_equal (json_array_size (json_object_get (j, "items")), 8);
    text = json_dumps (j, 0);
    assert_non_null (strstr (text, NUM_B));
    free (text);
    json_decref (j);
    /* The read is durable before the answer; the export by arrival reads the index, which may
     * take a moment to catch up. */
    assert_true (pl_test_wait_until (s_range_read_recorded, f, 10000));
    j = s_json (f, "/v1/audit/export?chain=audit-0&from_seq=10", AUTH_CRM);
    assert_int_equal (s_exports (json_object_get (j, "items"), &access), 1);
    assert_int_equal (json_integer_value (json_object_get (access, "from_ms")), 1764374400000LL);
    assert_int_equal (json_integer_value (json_object_get (access, "to_ms")), 1764460800000LL);
    assert_int_equal (json_integer_value (json_object_get (access, "records")), 8);
    json_decref (j);

    /* plateauctl takes the same export incrementally: from seq 9, EV-LATE and what followed. */
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", f->http_port);
    char *out = NULL;
    char *inc[] = { "audit", "export", "--chain", "audit-0", "--from-seq", "9", "--url", url,
                    "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (inc, &out), 0);
    assert_non_null (strstr (out, "\"event_id\":\"EV-LATE\""));
    assert_non_null (strstr (out, "\"number\":\"" NUM_B "\""));
    assert_null (strstr (out, "EV-A-0"));
    free (out);
    /* And from the data directory itself, without keys: pseudonyms only. */
    char *inc_data[] = { "audit", "export", "--chain", "audit-0", "--from-seq", "0", "--data",
                         f->data, NULL };
    assert_int_equal (ax_ctl (inc_data, &out), 0);
    assert_non_null (strstr (out, "\"event_id\":\"EV-A-0\""));
    assert_non_null (strstr (out, "\"event_id\":\"EV-LATE\""));
    assert_null (strstr (out, NUM_A));
    free (out);
    char *bad_inc[] = { "audit", "export", "--chain", "audit-0", "--url", url, NULL };
    assert_int_equal (ax_ctl (bad_inc, NULL), 2);

    /* Bad requests. */
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (s_get (f, "/v1/audit/export?chain=audit-0", AUTH, &resp), 400);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit/export?chain=../x&from_seq=0", AUTH, &resp), 400);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit/export?chain=nope&from_seq=0", AUTH, &resp), 404);
    pl_test_http_resp_free (&resp);
    assert_int_equal (s_get (f, "/v1/audit/export?from=2025-11-29T00:00:00Z", AUTH, &resp), 400);
    pl_test_http_resp_free (&resp);
    ax_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_query_filters_pages_and_formats),
        cmocka_unit_test (test_tokens_and_readers),
        cmocka_unit_test (test_why_tells_the_story_and_erasure_keeps_verify_green),
        cmocka_unit_test (test_verify_names_the_first_bad_record_of_a_tampered_log),
        cmocka_unit_test (test_bad_events_are_nacked_for_good_and_never_written),
        cmocka_unit_test (test_impossible_dates_get_400_from_every_time_parameter),
        cmocka_unit_test (test_auditors_export_by_arrival_and_every_read_in_clear_is_recorded),
    };
    return cmocka_run_group_tests_name ("audit_service_http", tests, NULL, NULL);
}
