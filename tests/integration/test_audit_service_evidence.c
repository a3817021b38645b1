/*  test_audit_service_evidence.c — issue 8, acceptance 3: after a person is erased, an auditor's
 *  export still lets an independent checker recompute, from typed fields alone, whether each of
 *  the person's calls was inside the calling window in the callee's zone, how many attempts the
 *  person had in the rolling window, and which lists were consulted with which copy dates.
 *
 *  plateau-audit runs as a process against a private Redis; the events are built with the kit's
 *  pl_audit_event_init and sent with pl_audit_send through a real bus client. The checker below
 *  reads nothing but the export's JSON, and never `reason` or `details` (they are personal and
 *  erased): it converts instants to local time with the C library's own zone database, not with
 *  plateau's, so that it trusts nothing of plateau but the record.
 */
#include <jansson.h>
#include <time.h>
#include "plateau/audit_emit.h"
#include "test_audit_service_fixture.h"

#define AUTH "Authorization: Bearer " AX_TOKEN "\r\n"       /* ops: auditor and eraser */
#define PERSON "+19075550123"           /* Juneau, Alaska: the person who asks to be erased */
#define OTHER "+19075550188"            /* another callee of the same campaign, not erased */
#define DAY 86400000LL
#define T_MAR3 1772496000000LL          /* 2026-03-03T00:00:00Z */
#define WINDOW_FROM 8                   /* the US calling window: 08:00 to 21:00 local (TCPA) */
#define WINDOW_TO 21
#define ROLLING_MS (7 * DAY)

/* One dialled attempt: what the dialer decided and what happened on the line. */
typedef struct {
    const char *number, *attempt;
    int64_t evaluated_ms;           /* when the rules were evaluated, just before placing */
    const char *local_time;         /* that instant in America/Juneau, as the dialer says */
} s_call_t;

static const s_call_t s_calls[] = {
    { PERSON, "D-1", T_MAR3 + 17 * 3600000LL, "2026-03-03T08:00:00-09:00" },
    { PERSON, "D-2", T_MAR3 + DAY + 28 * 3600000LL + 1800000LL, "2026-03-04T19:30:00-09:00" },
    { OTHER, "D-3", T_MAR3 + 2 * DAY + 20 * 3600000LL, "2026-03-05T11:00:00-09:00" },
    { PERSON, "D-4", T_MAR3 + 3 * DAY + 30 * 3600000LL + 1800000LL, "2026-03-06T21:30:00-09:00" },
};
#define N_CALLS (sizeof s_calls / sizeof *s_calls)

/* Sends dial.allowed and call.outcome of call c, every fact in its typed field. */
static void
s_send_call (ax_t *f, const s_call_t *c)
{
    char id[64];
    Plateau__V1__AuditEvent ev;
    snprintf (id, sizeof id, "%s.allowed", c->attempt);
    pl_audit_event_init (&ev, "dialer", "dial.allowed", id, c->evaluated_ms);
    Plateau__V1__ZoneCandidate z[2] = { PLATEAU__V1__ZONE_CANDIDATE__INIT,
                                        PLATEAU__V1__ZONE_CANDIDATE__INIT };
    Plateau__V1__ZoneCandidate *zp[2] = { &z[0], &z[1] };
    z[0].zone = "America/Juneau";
    z[0].source = "prefix";
    z[1].zone = "America/Anchorage";
    z[1].source = "prefix";
    Plateau__V1__ListVersion l[2] = { PLATEAU__V1__LIST_VERSION__INIT,
                                      PLATEAU__V1__LIST_VERSION__INIT };
    Plateau__V1__ListVersion *lp[2] = { &l[0], &l[1] };
    l[0].name = "us-dnc";
    l[0].version = "2026-02-27.1";
    l[0].copy_date = "2026-02-27";
    l[0].loaded_at_ms = T_MAR3 - 3 * DAY;
    l[0].age_ms = c->evaluated_ms - l[0].loaded_at_ms;
    l[1].name = "internal-dnc";
    l[1].version = "v812";
    l[1].copy_date = "2026-03-03";
    l[1].loaded_at_ms = T_MAR3;
    Plateau__V1__AuditEvent__DetailsEntry note = PLATEAU__V1__AUDIT_EVENT__DETAILS_ENTRY__INIT;
    Plateau__V1__AuditEvent__DetailsEntry *notes[1] = { &note };
    note.key = "note";
    note.value = "called at 08:00 sharp, see the window";      /* personal: not evidence */
    char *regions[1] = { "US-AK" };
    ev.number = (char *) c->number;
    ev.lead_id = "L-77";
    ev.campaign = "acme-collect";
    ev.decision = PLATEAU__V1__DECISION__ALLOW;
    ev.zone = "America/Juneau";
    ev.reason = "inside the window";
    ev.n_details = strcmp (c->number, PERSON) == 0;      /* free text about the person alone */
    ev.details = notes;
    ev.tenant = "acme";
    ev.attempt_id = (char *) c->attempt;
    ev.call_kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
    ev.profile = "us-dc";
    ev.n_zones = 2;
    ev.zones = zp;
    ev.n_regions = 1;
    ev.regions = regions;
    ev.evaluated_at_ms = c->evaluated_ms;
    ev.local_time = (char *) c->local_time;
    ev.dial_mode = PLATEAU__V1__DIAL_MODE__AUTODIALED;
    ev.caller_id = "+18005550100";
    ev.n_lists = 2;
    ev.lists = lp;
    assert_int_equal (pl_audit_send (f->client, "dialer", f->clock, NULL, &ev), 0);

    snprintf (id, sizeof id, "%s.outcome", c->attempt);
    Plateau__V1__CallFacts call = PLATEAU__V1__CALL_FACTS__INIT;
    call.result = "answered";
    call.placed_at_ms = c->evaluated_ms + 200;
    call.answered_at_ms = call.placed_at_ms + 9000;
    call.ended_at_ms = call.answered_at_ms + 95000;
    call.ring_ms = 9000;
    call.time_to_agent_ms = 400;
    pl_audit_event_init (&ev, "dialer", "call.outcome", id, call.ended_at_ms);
    ev.number = (char *) c->number;
    ev.lead_id = "L-77";
    ev.campaign = "acme-collect";
    ev.zone = "America/Juneau";
    ev.tenant = "acme";
    ev.attempt_id = (char *) c->attempt;
    ev.call_kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
    ev.reason = "promise to pay on the 10th";
    ev.call = &call;
    assert_int_equal (pl_audit_send (f->client, "dialer", f->clock, NULL, &ev), 0);
}

/* Every record of [from, to) as an auditor, every page. A new JSON array. */
static json_t *
s_export (ax_t *f, const char *from, const char *to)
{
    json_t *all = json_array ();
    char cursor[512] = "";
    do {
        char path[1024];
        int k = snprintf (path, sizeof path, "/v1/audit/export?from=%s&to=%s&limit=2", from, to);
        if (cursor[0])
            snprintf (path + k, sizeof path - (size_t) k, "&cursor=%s", cursor);
        pl_test_http_resp_t resp = { 0 };
        assert_int_equal (pl_test_http_request (f->http_port, "GET", path, AUTH, NULL, 0, &resp), 200);
        json_t *page = json_loads (resp.body, 0, NULL);
        pl_test_http_resp_free (&resp);
        assert_non_null (page);
        json_array_extend (all, json_object_get (page, "items"));
        const char *next = json_string_value (json_object_get (page, "next_cursor"));
        snprintf (cursor, sizeof cursor, "%s", next ? next : "");
        json_decref (page);
    } while (cursor[0]);
    return all;
}

/* ---- the independent checker: the export's JSON and libc, nothing else ------------------- */

static const char *
s_str (json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s ? s : "";
}

static json_t *
s_ev (json_t *rec)
{
    return json_object_get (rec, "evidence");
}

/* Local wall-clock time of utc_ms in zone, by the C library (TZ), and its "±HH:MM" offset. */
static struct tm
s_local (const char *zone, int64_t utc_ms, char offset[8])
{
    setenv ("TZ", zone, 1);
    tzset ();
    time_t t = (time_t) (utc_ms / 1000);
    struct tm tm;
    localtime_r (&t, &tm);
    int off = (int) (tm.tm_gmtoff / 60), a = off < 0 ? -off : off;
    snprintf (offset, 8, "%c%02d:%02d", off < 0 ? '-' : '+', (a / 60) % 100, a % 60);
    unsetenv ("TZ");
    tzset ();
    return tm;
}

/* The dial.allowed record of an attempt, found by its typed attempt id. */
static json_t *
s_decision_of (json_t *records, const char *attempt)
{
    size_t i;
    json_t *r;
    json_array_foreach (records, i, r)
        if (!strcmp (s_str (r, "type"), "dial.allowed") && !strcmp (s_str (s_ev (r), "attempt_id"), attempt))
            return r;
    return NULL;
}

static void
test_an_erased_person_s_calls_are_still_checkable_from_the_export (void **state)
{
    ax_t *f = ax_new ();
    assert_non_null (f);
    assert_true (ax_start (f, NULL) > 0);
    ax_connect (f);
    assert_non_null (f->client);
    for (size_t i = 0; i < N_CALLS; i++)
        s_send_call (f, &s_calls[i]);
    ax_pump (f, 15000, true);
    assert_int_equal (pl_bus_client_inflight (f->client), 0);

    /* The person asks to be erased. */
    const char *body = "{\"number\":\"" PERSON "\",\"request_id\":\"gdpr-2026-031\"}";
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/audit/erasure",
                                            AUTH "Content-Type: application/json\r\n", body,
                                            strlen (body), &resp), 200);
    assert_non_null (strstr (resp.body, "\"records\":6"));     /* 3 calls x 2 events */
    pl_test_http_resp_free (&resp);

    /* An auditor exports the range, numbers in clear where not erased. */
    json_t *records = s_export (f, "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z");
    char *text = json_dumps (records, JSON_COMPACT);
    assert_null (strstr (text, "9075550123"));                  /* the person's number: gone */
    assert_null (strstr (text, "08:00 sharp"));                 /* and the free text about them */
    assert_non_null (strstr (text, OTHER));                     /* the other callee: in clear */
    free (text);

    /* The checker groups the calls by the person's pseudonym (the only identity left). */
    const char *person = NULL;
    size_t i;
    json_t *r;
    json_array_foreach (records, i, r)
        if (!strcmp (s_str (r, "type"), "call.outcome") && !strcmp (s_str (r, "personal"), "erased"))
            person = s_str (r, "number_pseudonym");
    assert_non_null (person);
    assert_int_equal (strlen (person), 64);

    int checked = 0, inside = 0, outside = 0;
    int64_t last_placed = 0;
    int64_t placed[8];
    int n_placed = 0;
    json_array_foreach (records, i, r)
    {
        if (strcmp (s_str (r, "type"), "call.outcome") || strcmp (s_str (r, "number_pseudonym"), person))
            continue;
        assert_null (json_object_get (r, "number"));
        assert_null (json_object_get (r, "reason"));
        assert_null (json_object_get (r, "details"));
        json_t *call = json_object_get (s_ev (r), "call");
        int64_t at = json_integer_value (json_object_get (call, "placed_at_ms"));
        assert_true (at > 0);
        json_t *d = s_decision_of (records, s_str (s_ev (r), "attempt_id"));
        assert_non_null (d);
        /* The callee's zone: the binding one, and it must be one of the candidates. */
        const char *zone = s_str (d, "zone");
        bool candidate = false;
        size_t k;
        json_t *z;
        json_array_foreach (json_object_get (s_ev (d), "zones"), k, z)
            candidate |= !strcmp (s_str (z, "zone"), zone) && s_str (z, "source")[0];
        assert_true (candidate);
        /* The window, recomputed at the instant the call was placed, in that zone. */
        char offset[8];
        struct tm lt = s_local (zone, at, offset);
        bool in_window = lt.tm_hour >= WINDOW_FROM && lt.tm_hour < WINDOW_TO;
        in_window ? inside++ : outside++;
        /* And the dialer's own statement of local time agrees with the checker's clock. */
        int64_t evaluated = json_integer_value (json_object_get (s_ev (d), "evaluated_at_ms"));
        char expect[40], off2[8];
        struct tm et = s_local (zone, evaluated, off2);
        strftime (expect, sizeof expect, "%Y-%m-%dT%H:%M:%S", &et);
        strcat (expect, off2);
        assert_string_equal (s_str (s_ev (d), "local_time"), expect);
        if (n_placed < 8)
            placed[n_placed++] = at;
        if (at > last_placed)
            last_placed = at;
        checked++;
    }
    assert_int_equal (checked, 3);
    assert_int_equal (inside, 2);          /* 08:00 and 19:30 in Juneau */
    assert_int_equal (outside, 1);         /* 21:30 in Juneau: the export proves the breach */

    /* Attempts in the rolling 7 days before the last call, by pseudonym: three; the other
     * callee's call does not count. */
    int attempts = 0;
    for (int k = 0; k < n_placed; k++)
        attempts += placed[k] > last_placed - ROLLING_MS && placed[k] <= last_placed;
    assert_int_equal (attempts, 3);

    /* The lists consulted before each of the person's calls, with their copy dates. */
    int us_dnc = 0, internal = 0;
    json_array_foreach (records, i, r)
    {
        if (strcmp (s_str (r, "type"), "dial.allowed") || strcmp (s_str (r, "number_pseudonym"), person))
            continue;
        assert_string_equal (s_str (r, "personal"), "erased");
        size_t k;
        json_t *l;
        json_array_foreach (json_object_get (r, "lists"), k, l)
        {
            assert_true (json_is_false (json_object_get (l, "hit")));
            if (!strcmp (s_str (l, "name"), "us-dnc") && !strcmp (s_str (l, "copy_date"), "2026-02-27"))
                us_dnc++;
            if (!strcmp (s_str (l, "name"), "internal-dnc") && !strcmp (s_str (l, "copy_date"), "2026-03-03"))
                internal++;
        }
        assert_string_equal (s_str (s_ev (r), "dial_mode"), "autodialed");
        assert_string_equal (s_str (s_ev (r), "profile"), "us-dc");
    }
    assert_int_equal (us_dnc, 3);
    assert_int_equal (internal, 3);
    json_decref (records);

    /* The auditor's read is itself on record, with what was read. It is durable before the
     * answer; the range export reads the index, which may take a moment to show it. */
    bool seen = false;
    for (int attempt = 0; attempt < 100 && !seen; attempt++) {
        if (attempt)
            usleep (100 * 1000);
        json_t *after = s_export (f, "2026-11-01T00:00:00Z", "2100-01-01T00:00:00Z");
        json_array_foreach (after, i, r)
            if (!strcmp (s_str (r, "type"), "audit.export")) {
                json_t *a = json_object_get (s_ev (r), "access");
                seen |= !strcmp (s_str (a, "reader"), "ops") && json_is_true (json_object_get (a, "numbers_in_clear"))
                        && json_integer_value (json_object_get (a, "from_ms")) == 1772323200000LL;
            }
        json_decref (after);
    }
    assert_true (seen);

    /* The chain still verifies after the erasure. */
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", f->http_port);
    char *verify[] = { "audit", "verify", "--url", url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (verify, NULL), 0);
    ax_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_an_erased_person_s_calls_are_still_checkable_from_the_export),
    };
    return cmocka_run_group_tests_name ("audit_service_evidence", tests, NULL, NULL);
}
