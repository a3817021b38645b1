/*  test_dialer_api.c — the dialer's HTTP API and `plateauctl why` / `queue`, against
 *  plateau-dialer as a process: a real Redis, real HTTP, the dialer's real bus door, a virtual
 *  clock standing on Monday 2026-12-07 at 10:00 in Paris, and two small real bus servers
 *  standing in for scrub (it keeps every DialCheck, answers none) and telephony.
 *
 *  A lead is put in the dialer as scrub would, with a LeadCleared on its bus door; then the
 *  readers see why it waits and the queue it heads, the agent desktop dials it by hand (through
 *  the same claim and check: scrub is asked, told it is manual), its disposition waits for the
 *  call's outcome and applies once, an operator's pause stops every claim until resumed, and every
 *  door is attacked: no token, the wrong role, a body
 *  over 16 KiB, an unknown member, broken JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "pl_test.h"
#include "pl_test_http.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/redis.h"

#define MON_0900Z 1796634000000LL      /* Monday 2026-12-07 09:00 UTC, 10:00 in Paris */
#define NUMBER "+33612340001"
#define LEAD "01KDIALERAPILEAD0000000001"
#define CAMPAIGN "fr-test"
#define OPS "0123456789abcdef-ops"       /* PLATEAU_DIALER_OPERATORS */
#define DESK "0123456789abcdef-desk"     /* PLATEAU_DIALER_AGENTS: the agent desktop */
#define READER "0123456789abcdef-reader" /* PLATEAU_DIALER_READERS */
#define MAX_SEEN 64

/* The example floor's French campaign, as services/dialer/campaigns/fr-canvass.campaign. */
static const char *s_campaign_text =
    "[campaign]\nprofile = fr-cc\ntenant  = acme-energie\nname    = Offre hiver\ncli     = +33162000001\n\n"
    "[dialer]\nmode           = progressive\npriority       = 5\norder          = oldest\nnumbers        = listed\n"
    "ring-timeout   = 20s\namd            = no\nabandon-target = 3%\nmax-attempts   = 4\n\n"
    "[dialer-retry busy]\ndelay = 15m\nmax   = 2\n\n[dialer-retry no-answer]\ndelay = 3h\nmax   = 3\n";

typedef struct {
    pl_test_redis_t *srv;
    char *dir;
    char scrub_bus[64], tel_bus[64], dialer_bus[64], log[400];
    pid_t dialer;
    int http_port, ops_port;
    pl_bus_server_t *scrub, *tel;
    pl_clock_t *clock;
    pl_redis_t *redis;
    pl_bus_client_t *as_scrub, *as_telsim, *as_promise;
    size_t nchecks;
    char check_lead[MAX_SEEN][64], check_id[MAX_SEEN][96];
    bool check_manual[MAX_SEEN];
    int check_hist[MAX_SEEN], check_other[MAX_SEEN];   /* history entries; of them, other numbers' */
    char check_other_debt[MAX_SEEN][64];
    bool refuse_checks;        /* the scrub stand-in refuses DialChecks for good (STALE) */
} fx_t;

static void
s_dump (const char *path)
{
    char buf[4096];
    size_t n;
    FILE *fp = fopen (path, "r");
    while (fp && (n = fread (buf, 1, sizeof buf, fp)) > 0)
        fwrite (buf, 1, n, stderr);
    if (fp)
        fclose (fp);
}

static void
s_scrub (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK && f->nchecks < MAX_SEEN) {
            snprintf (f->check_lead[f->nchecks], 64, "%s", e->dial_check->lead_id);
            snprintf (f->check_id[f->nchecks], 96, "%s", e->dial_check->check_id);
            const Plateau__V1__DialCheck *dc = e->dial_check;
            f->check_hist[f->nchecks] = (int) dc->n_history;
            f->check_other[f->nchecks] = 0;
            f->check_other_debt[f->nchecks][0] = '\0';
            for (size_t k = 0; k < dc->n_history; k++)
                if (dc->history[k]->flags & PLATEAU__V1__CONTACT_ENTRY__FLAG__OTHER_NUMBER) {
                    f->check_other[f->nchecks]++;
                    snprintf (f->check_other_debt[f->nchecks], 64, "%s", dc->history[k]->debt);
                }
            f->check_manual[f->nchecks++] = dc->manual;
        }
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK && f->refuse_checks)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__STALE, "envelope outside the clock window", 0);
        else
            pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_ack_all (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    (void) arg;
    for (size_t i = 0; i < n; i++)
        pl_bus_msg_ack (msgs[i]);
}

static void
s_pump (fx_t *f, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        pl_bus_server_process (f->scrub, 256);
        pl_bus_server_process (f->tel, 256);
        pl_bus_client_t *cs[3] = { f->as_scrub, f->as_telsim, f->as_promise };
        for (int i = 0; i < 3; i++)
            if (cs[i]) {
                pl_bus_client_process (cs[i]);
                pl_bus_client_tick (cs[i]);
            }
        usleep (5000);
    } while (pl_clock_mono_ms () < end);
}

static int
s_start_dialer (fx_t *f)
{
    static char e[20][700];
    char *env[21];
    for (int attempt = 0; attempt < 3; attempt++) {
        int k = 0;
        f->http_port = pl_test_free_port ();
        snprintf (f->dialer_bus, sizeof f->dialer_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (e[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
        f->ops_port = pl_test_free_port ();
        snprintf (e[k++], 700, "PLATEAU_OPS_PORT=%d", f->ops_port);
        snprintf (e[k++], 700, "PLATEAU_CLOCK=virtual:%lld", MON_0900Z);
        snprintf (e[k++], 700, "PLATEAU_BUS_BIND=%s", f->dialer_bus);
        snprintf (e[k++], 700, "PLATEAU_SCRUB_BUS=%s", f->scrub_bus);
        snprintf (e[k++], 700, "PLATEAU_TELEPHONY_BUS=%s", f->tel_bus);
        snprintf (e[k++], 700, "PLATEAU_TELEPHONY_IDENTITY=telsim");
        snprintf (e[k++], 700, "PLATEAU_CAMPAIGNS_DIR=%s/campaigns", f->dir);
        snprintf (e[k++], 700, "PLATEAU_API_TOKENS_FILE=%s/tokens", f->dir);
        snprintf (e[k++], 700, "PLATEAU_DIALER_HTTP_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_DIALER_HTTP_PORT=%d", f->http_port);
        snprintf (e[k++], 700, "PLATEAU_DIALER_OPERATORS=ops");
        snprintf (e[k++], 700, "PLATEAU_DIALER_AGENTS=desk");
        snprintf (e[k++], 700, "PLATEAU_DIALER_READERS=reader");
        for (int j = 0; j < k; j++)
            env[j] = e[j];
        env[k] = NULL;
        char *argv[] = { "plateau-dialer", NULL };
        f->dialer = pl_test_spawn (argv, env, f->log);
        if (f->dialer > 0 && pl_test_wait_started (f->dialer, f->log, 20000))
            return 0;
        pl_test_stop (f->dialer, SIGKILL, 2000);
        f->dialer = 0;
    }
    s_dump (f->log);
    return -1;
}

/* Sends env from client c and waits for its acknowledgement: 0, or -1 (refused, or no answer). */
static int
s_send (fx_t *f, pl_bus_client_t *c, pl_envelope_t *env)
{
    pl_envelope_t *envs[1] = { env };
    uint64_t dead = pl_bus_client_count (c, "dead");     /* earlier refusals are not this one's */
    if (pl_bus_client_send (c, envs, 1) != 0)
        return -1;
    for (int i = 0; i < 400 && pl_bus_client_inflight (c) > 0; i++)
        s_pump (f, 10);
    return pl_bus_client_inflight (c) == 0 && pl_bus_client_count (c, "dead") == dead ? 0 : -1;
}

/* Sends a LeadCleared as scrub would: the lead of campaign, its number in Paris, one ALLOW; a
 * collection lead names its debt (NULL: none). */
static int
s_send_lead_number (fx_t *f, const char *lead_id, const char *campaign, const char *debt, const char *number)
{
    Plateau__V1__Debt d = PLATEAU__V1__DEBT__INIT;
    Plateau__V1__PhoneNumber phone = PLATEAU__V1__PHONE_NUMBER__INIT;
    Plateau__V1__Lead lead = PLATEAU__V1__LEAD__INIT;
    Plateau__V1__ScrubVerdict v = PLATEAU__V1__SCRUB_VERDICT__INIT, *vs[1] = { &v };
    Plateau__V1__LeadCleared lc = PLATEAU__V1__LEAD_CLEARED__INIT;
    char *zones[] = { "Europe/Paris" };
    phone.e164 = (char *) number;
    phone.type = PLATEAU__V1__PHONE_NUMBER__TYPE__MOBILE;
    phone.region = "FR";
    phone.n_zones = 1;
    phone.zones = zones;
    phone.zone_source = "prefix";
    Plateau__V1__Lead__CustomEntry ce = PLATEAU__V1__LEAD__CUSTOM_ENTRY__INIT, *ces[1] = { &ce };
    ce.key = "segment";
    ce.value = "gold";
    lead.id = (char *) lead_id;
    lead.source = "crm";
    lead.external_id = "CRM-77";
    lead.campaign = (char *) campaign;
    lead.phone = &phone;
    lead.country = "FR";
    lead.first_name = "Hélène";
    lead.last_name = "Martin";
    lead.address = "12 rue de la Paix";
    lead.postal_code = "75002";
    lead.email = "helene@example.org";
    lead.n_custom = 1;
    lead.custom = ces;
    lead.received_at_ms = MON_0900Z - 60000;
    if (debt) {
        d.account_ref = (char *) debt;
        d.creditor = "Harbor Credit Union";
        lead.debt = &d;
    }
    v.request_id = (char *) lead_id;
    v.lead_id = (char *) lead_id;
    v.number = (char *) number;
    v.decision = PLATEAU__V1__DECISION__ALLOW;
    lc.lead = &lead;
    lc.n_verdicts = 1;
    lc.verdicts = vs;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "scrub", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_CLEARED;
    env.lead_cleared = &lc;
    return s_send (f, f->as_scrub, &env);
}

static int
s_send_lead_debt (fx_t *f, const char *lead_id, const char *campaign, const char *debt)
{
    return s_send_lead_number (f, lead_id, campaign, debt, NUMBER);
}

static int
s_send_lead_in (fx_t *f, const char *lead_id, const char *campaign)
{
    return s_send_lead_debt (f, lead_id, campaign, NULL);
}

static int
s_send_lead (fx_t *f, const char *lead_id)
{
    return s_send_lead_in (f, lead_id, CAMPAIGN);
}

static int
s_setup (void **state)
{
    signal (SIGPIPE, SIG_IGN);
    fx_t *f = calloc (1, sizeof *f);
    *state = f;
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->dir = pl_test_tmpdir ("pl-dialer-api");
    char path[600];
    snprintf (path, sizeof path, "%s/campaigns", f->dir);
    if (mkdir (path, 0700) != 0)
        return -1;
    snprintf (path, sizeof path, "%s/campaigns/%s.campaign", f->dir, CAMPAIGN);
    FILE *fp = fopen (path, "w");
    fputs (s_campaign_text, fp);
    fclose (fp);
    snprintf (path, sizeof path, "%s/tokens", f->dir);
    fp = fopen (path, "w");
    fprintf (fp, "ops:%s\ndesk:%s\nreader:%s\n", OPS, DESK, READER);
    fclose (fp);
    snprintf (f->log, sizeof f->log, "%s/dialer.log", f->dir);
    f->scrub = pl_test_bus_server_free (f->scrub_bus, sizeof f->scrub_bus, "scrub");
    f->tel = pl_test_bus_server_free (f->tel_bus, sizeof f->tel_bus, "telsim");
    if (!f->scrub || !f->tel)
        return -1;
    pl_bus_server_set_handler (f->scrub, s_scrub, f, NULL);
    pl_bus_server_set_handler (f->tel, s_ack_all, f, NULL);
    if (s_start_dialer (f) != 0)
        return -1;
    f->clock = pl_clock_new_virtual (MON_0900Z);
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    char err[256] = "";
    f->as_scrub = pl_bus_client_new (f->redis, f->clock, "test-scrub", "dialer", f->dialer_bus,
                                     pl_test_bus_options ("scrub"), err, sizeof err);
    f->as_telsim = pl_bus_client_new (f->redis, f->clock, "test-telsim", "dialer", f->dialer_bus,
                                      pl_test_bus_options ("telsim"), err, sizeof err);
    f->as_promise = pl_bus_client_new (f->redis, f->clock, "test-promise", "dialer", f->dialer_bus,
                                       pl_test_bus_options ("promise"), err, sizeof err);
    if (!f->as_scrub || !f->as_telsim || !f->as_promise) {
        fprintf (stderr, "bus client: %s\n", err);
        return -1;
    }
    if (s_send_lead (f, LEAD) != 0) {
        fprintf (stderr, "the dialer did not take the LeadCleared\n");
        s_dump (f->log);
        return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    if (!f)
        return 0;
    if (f->dialer > 0) {
        s_dump (f->log);
        pl_test_stop (f->dialer, SIGKILL, 2000);
    }
    pl_bus_client_destroy (&f->as_scrub);
    pl_bus_client_destroy (&f->as_telsim);
    pl_bus_client_destroy (&f->as_promise);
    pl_redis_destroy (&f->redis);
    pl_clock_destroy (&f->clock);
    pl_bus_server_destroy (&f->scrub);
    pl_bus_server_destroy (&f->tel);
    pl_test_redis_stop (&f->srv);
    if (f->dir) {
        pl_test_rmdir (f->dir);
        free (f->dir);
    }
    free (f);
    return 0;
}

/* A request with a token (NULL: none) and a JSON body (NULL: none); the body parsed into *out
 * when wanted (NULL when it is not JSON). */
static int
s_http (fx_t *f, const char *method, const char *path, const char *token, const char *body, json_t **out)
{
    char headers[256];
    snprintf (headers, sizeof headers, "%s%s%s%s", token ? "Authorization: Bearer " : "", token ? token : "",
              token ? "\r\n" : "", body ? "Content-Type: application/json\r\n" : "");
    pl_test_http_resp_t r = { 0 };
    int st = pl_test_http_request (f->http_port, method, path, headers, body, body ? strlen (body) : 0, &r);
    if (out)
        *out = r.body ? json_loads (r.body, 0, NULL) : NULL;
    pl_test_http_resp_free (&r);
    return st;
}

/* The same with a body of any type and length. */
static int
s_http_body (fx_t *f, const char *method, const char *path, const char *token, const char *ctype, const char *body,
             size_t len, json_t **out)
{
    char headers[256];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Type: %s\r\n", token, ctype);
    pl_test_http_resp_t r = { 0 };
    int st = pl_test_http_request (f->http_port, method, path, headers, body, len, &r);
    if (out)
        *out = r.body ? json_loads (r.body, 0, NULL) : NULL;
    pl_test_http_resp_free (&r);
    return st;
}

static const char *
s_str (json_t *o, const char *path)
{
    /* "a.b.c": members in turn */
    char buf[128];
    snprintf (buf, sizeof buf, "%s", path);
    json_t *v = o;
    for (char *k = strtok (buf, "."); k && v; k = strtok (NULL, "."))
        v = json_object_get (v, k);
    return json_string_value (v) ?: "";
}

/* Runs plateauctl with args against the dialer; its stdout and stderr in out. Exit status. */
static int
s_ctl (fx_t *f, const char *token, const char *args, char *out, size_t size)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "PLATEAU_DIALER_URL=http://127.0.0.1:%d PLATEAU_API_TOKEN=%s '%s' %s",
              f->http_port, token, pl_test_bin ("plateauctl"), args);
    return pl_test_run (cmd, out, size);
}

/* ---- reading -------------------------------------------------------------------------------- */

/* How many messages of type the dialer holds for the promise service in campaign's slot (its
 * outbox entries: fields i, t, e). */
static int
s_to_promise (fx_t *f, const char *campaign, const char *type)
{
    pl_reply_t *keys = pl_redis_command (f->redis, "KEYS pl:{camp:%s}:ob:*:promise", campaign);
    int n = 0;
    for (size_t k = 0; keys && k < pl_reply_len (keys); k++) {
        pl_reply_t *r = pl_redis_command (f->redis, "XRANGE %s - +", pl_reply_str (pl_reply_element (keys, k), NULL));
        for (size_t i = 0; r && i < pl_reply_len (r); i++) {
            const pl_reply_t *fv = pl_reply_element (pl_reply_element (r, i), 1);
            for (size_t j = 0; j + 1 < pl_reply_len (fv); j += 2)
                n += !strcmp (pl_reply_str (pl_reply_element (fv, j), NULL), "t")
                     && !strcmp (pl_reply_str (pl_reply_element (fv, j + 1), NULL), type);
        }
        pl_reply_free (&r);
    }
    pl_reply_free (&keys);
    return n;
}

/* The queue keeps what a dial needs of the lead and not who the person is: the stored Lead has
 * its numbers, country, postal code, source and list age, and no name, address, e-mail, CRM id
 * or free fields (ADR 0071). */
static void
test_the_queue_keeps_what_a_dial_needs_and_not_who_the_person_is (void **state)
{
    fx_t *f = *state;
    pl_reply_t *r = pl_redis_command (f->redis, "HGET pl:{camp:%s}:dl:%s pb", CAMPAIGN, LEAD);
    size_t len = 0;
    const char *pb = r ? pl_reply_str (r, &len) : NULL;
    assert_non_null (pb);
    Plateau__V1__Lead *l = plateau__v1__lead__unpack (NULL, len, (const uint8_t *) pb);
    pl_reply_free (&r);
    assert_non_null (l);
    assert_string_equal (l->id, LEAD);
    assert_string_equal (l->phone->e164, NUMBER);
    assert_string_equal (l->phone->zones[0], "Europe/Paris");
    assert_string_equal (l->country, "FR");
    assert_string_equal (l->postal_code, "75002");
    assert_string_equal (l->source, "crm");
    assert_int_equal (l->received_at_ms, MON_0900Z - 60000);
    assert_string_equal (l->first_name, "");
    assert_string_equal (l->last_name, "");
    assert_string_equal (l->address, "");
    assert_string_equal (l->email, "");
    assert_string_equal (l->external_id, "");
    assert_int_equal (l->n_custom, 0);
    plateau__v1__lead__free_unpacked (l, NULL);
}

static void
test_no_token_is_401 (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why", NULL, NULL, NULL), 401);
    assert_int_equal (s_http (f, "GET", "/v1/campaigns", "0123456789abcdef-nobody", NULL, NULL), 401);
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", NULL, "{}", NULL), 401);
}

static void
test_why_shows_the_lead_queued_with_its_next_attempt_in_paris_time (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why", READER, NULL, &o), 200);
    assert_string_equal (s_str (o, "state"), "queued");
    assert_string_equal (s_str (o, "campaign"), CAMPAIGN);
    assert_string_equal (s_str (o, "number"), NUMBER);
    assert_string_equal (s_str (o, "next_attempt.zone"), "Europe/Paris");
    assert_string_equal (s_str (o, "next_attempt.local"), "2026-12-07T10:00:00+01:00");
    assert_string_equal (s_str (o, "next_attempt.reason"), "first attempt");
    json_decref (o);
    /* With its campaign named; in a campaign that does not exist; a lead nobody holds. */
    assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why?campaign=" CAMPAIGN, OPS, NULL, NULL), 200);
    assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why?campaign=nope", OPS, NULL, &o), 404);
    assert_string_equal (s_str (o, "error.field"), "campaign");
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/leads/01KNOSUCHLEAD/why", READER, NULL, &o), 404);
    assert_string_equal (s_str (o, "error.code"), "not_found");
    json_decref (o);
    /* The agent desktop acts on leads but does not read them. */
    assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why", DESK, NULL, NULL), 403);
}

static void
test_a_number_is_read_by_readers_only (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_http (f, "GET", "/v1/numbers/%2B33612340001/why", READER, NULL, &o), 200);
    assert_string_equal (s_str (o, "number"), NUMBER);
    assert_int_equal (json_array_size (json_object_get (o, "leads")), 1);
    assert_string_equal (s_str (json_array_get (json_object_get (o, "leads"), 0), "lead"), LEAD);
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/numbers/%2B33612340001/why", DESK, NULL, NULL), 403);
    assert_int_equal (s_http (f, "GET", "/v1/numbers/0612340001/why", READER, NULL, &o), 400);
    assert_string_equal (s_str (o, "error.field"), "e164");
    json_decref (o);
}

static void
test_queue_shows_the_lead_at_its_head (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/" CAMPAIGN "/queue?limit=5", READER, NULL, &o), 200);
    assert_int_equal (json_integer_value (json_object_get (o, "queued")), 1);
    assert_int_equal (json_integer_value (json_object_get (o, "due_now")), 1);
    json_t *head = json_object_get (o, "head");
    assert_int_equal (json_array_size (head), 1);
    assert_string_equal (s_str (json_array_get (head, 0), "lead"), LEAD);
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/" CAMPAIGN "/queue?limit=201", READER, NULL, &o), 400);
    assert_string_equal (s_str (o, "error.field"), "limit");
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/nope/queue", READER, NULL, NULL), 404);
    /* Every campaign with its settings. */
    assert_int_equal (s_http (f, "GET", "/v1/campaigns", READER, NULL, &o), 200);
    json_t *c = json_array_get (json_object_get (o, "campaigns"), 0);
    assert_string_equal (s_str (c, "id"), CAMPAIGN);
    assert_string_equal (s_str (c, "mode"), "progressive");
    assert_string_equal (s_str (c, "jurisdiction"), "FR");
    assert_int_equal (json_integer_value (json_object_get (c, "max_attempts")), 4);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (json_object_get (c, "retries"), "busy"), "max")), 2);
    json_decref (o);
}

static void
test_plateauctl_why_and_queue (void **state)
{
    fx_t *f = *state;
    char out[16384];
    assert_int_equal (s_ctl (f, READER, "why " LEAD, out, sizeof out), 0);
    assert_non_null (strstr (out, "queued"));
    assert_non_null (strstr (out, "2026-12-07T10:00:00+01:00 Europe/Paris"));
    assert_non_null (strstr (out, "first attempt"));
    assert_int_equal (s_ctl (f, READER, "why " NUMBER, out, sizeof out), 0);
    assert_non_null (strstr (out, "1 lead"));
    assert_non_null (strstr (out, LEAD));
    assert_int_equal (s_ctl (f, READER, "why 01KNOSUCHLEAD", out, sizeof out), 1);
    assert_int_equal (s_ctl (f, READER, "why --json " LEAD, out, sizeof out), 0);
    json_t *o = json_loads (out, 0, NULL);
    assert_non_null (o);
    assert_string_equal (s_str (o, "lead"), LEAD);
    json_decref (o);
    assert_int_equal (s_ctl (f, READER, "queue " CAMPAIGN " --limit 10", out, sizeof out), 0);
    assert_non_null (strstr (out, "1 queued, 1 due now, 0 lines in flight"));
    assert_non_null (strstr (out, "budget 3.00%"));
    assert_non_null (strstr (out, LEAD));
    assert_int_equal (s_ctl (f, READER, "queue " CAMPAIGN " --limit 0", out, sizeof out), 2);
    assert_int_equal (s_ctl (f, DESK, "queue " CAMPAIGN, out, sizeof out), 1);
}

/* ---- the agent desktop ---------------------------------------------------------------------- */

static void
test_a_reader_may_not_set_an_agent_state (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a1/state", READER,
                              "{\"state\":\"ready\",\"campaigns\":[\"" CAMPAIGN "\"]}", NULL), 403);
}

/* An operator pauses the campaign: nothing of it is claimed, neither by the pacing for a ready
 * agent nor by an agent's own dial, until it is resumed. Only operators may do either. */
static void
test_a_paused_campaign_claims_nothing_until_resumed (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    const char *path = "/v1/campaigns/" CAMPAIGN "/pause";
    assert_int_equal (s_http (f, "POST", path, DESK, "{}", NULL), 403);
    assert_int_equal (s_http (f, "POST", path, READER, "{}", NULL), 403);
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/" CAMPAIGN "/resume", DESK, "{}", NULL), 403);
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/nope/pause", OPS, "{}", NULL), 404);
    assert_int_equal (s_http (f, "POST", path, OPS, "{\"reason\":\"line\\nbreak\"}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "reason");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", path, OPS, "{\"why\":\"x\"}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "why");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", path, OPS, "{\"reason\":\"script review\"}", &o), 200);
    assert_string_equal (s_str (o, "status"), "paused");
    assert_true (json_is_true (json_object_get (o, "changed")));
    assert_string_equal (s_str (o, "paused.by"), "ops");
    assert_string_equal (s_str (o, "paused.reason"), "script review");
    assert_string_equal (s_str (o, "paused.at"), "2026-12-07T09:00:00.000Z");
    json_decref (o);
    /* Again: already so, nothing changes (the first reason stays). */
    assert_int_equal (s_http (f, "POST", path, OPS, "{\"reason\":\"again\"}", &o), 200);
    assert_false (json_is_true (json_object_get (o, "changed")));
    assert_string_equal (s_str (o, "paused.reason"), "script review");
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/" CAMPAIGN "/queue", READER, NULL, &o), 200);
    assert_string_equal (s_str (o, "paused.by"), "ops");
    json_decref (o);
    /* An agent's dial is refused, and a ready agent gets no call from the pacing. */
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", DESK,
                              "{\"campaign\":\"" CAMPAIGN "\",\"agent\":\"a9\"}", &o), 409);
    assert_string_equal (s_str (o, "error.code"), "paused");
    json_decref (o);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a9/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"" CAMPAIGN "\"]}", NULL), 204);
    s_pump (f, 1500);
    assert_int_equal (f->nchecks, 0);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a9/state", DESK,
                              "{\"state\":\"logged_out\",\"campaigns\":[\"" CAMPAIGN "\"]}", NULL), 204);
    char out[4096];
    assert_int_equal (s_ctl (f, READER, "queue " CAMPAIGN, out, sizeof out), 0);
    assert_non_null (strstr (out, "paused      by ops since 2026-12-07T09:00:00.000Z, script review"));
    /* Resumed (by plateauctl, an operator's token only): the queue is open again (the next test
     * dials the lead). */
    assert_int_equal (s_ctl (f, READER, "campaign resume " CAMPAIGN, out, sizeof out), 1);
    assert_non_null (strstr (out, "not an operator's"));
    assert_int_equal (s_ctl (f, OPS, "campaign resume " CAMPAIGN, out, sizeof out), 0);
    assert_string_equal (out, CAMPAIGN ": running again\n");
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/" CAMPAIGN "/resume", OPS, "{}", &o), 200);
    assert_string_equal (s_str (o, "status"), "running");
    assert_false (json_is_true (json_object_get (o, "changed")));
    assert_true (json_is_null (json_object_get (o, "paused")));
    json_decref (o);
    assert_int_equal (s_ctl (f, READER, "queue " CAMPAIGN, out, sizeof out), 0);
    assert_null (strstr (out, "nothing is claimed"));
}

/* An agent state over the bus, as telephony sends it, with the instant it began. id (NULL:
 * none kept): "" to receive the message's new id, or an id to send the message again under. */
static int
s_send_agent (fx_t *f, const char *agent, Plateau__V1__AgentState__State st, int64_t since, char *id)
{
    Plateau__V1__AgentState a = PLATEAU__V1__AGENT_STATE__INIT;
    char *camps[] = { CAMPAIGN };
    a.agent_id = (char *) agent;
    a.state = st;
    a.n_campaigns = 1;
    a.campaigns = camps;
    a.since_ms = since;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "telsim", f->clock, NULL);
    if (id && *id)
        snprintf (ids.id, sizeof ids.id, "%s", id);
    else if (id)
        snprintf (id, PL_ID_LEN + 1, "%s", ids.id);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE;
    env.agent_state = &a;
    return s_send (f, f->as_telsim, &env);
}

/* The value of one sample of the dialer's /metrics ("name{labels}"), -1 when absent. */
static double
s_metric (fx_t *f, const char *sample)
{
    char *body = NULL;
    double v = -1;
    if (pl_test_http_get (f->ops_port, "/metrics", &body) == 200 && body) {
        char *p = strstr (body, sample);
        if (p && p[strlen (sample)] == ' ')
            v = strtod (p + strlen (sample) + 1, NULL);
    }
    free (body);
    return v;
}

/* The count of agents in `st` (the dialer's agst hash), 0 when none. */
static long long
s_count (fx_t *f, const char *st)
{
    pl_reply_t *r = pl_redis_command (f->redis, "HGET pl:{camp:%s}:agst %s", CAMPAIGN, st);
    const char *v = r ? pl_reply_str (r, NULL) : NULL;
    long long n = v ? strtoll (v, NULL, 10) : 0;
    pl_reply_free (&r);
    return n;
}

/* The pacing pass reads an index of the agents, not every agent: the counts by state, the
 * ready agents by idle time, the measured wrap-up. The index follows every state (an older one
 * changes nothing), and a replica taking the campaign over rebuilds it from the agents' hash. */
static void
test_the_agents_index_follows_their_states_and_is_rebuilt_on_takeover (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/" CAMPAIGN "/pause", OPS, "{}", NULL), 200);
    int64_t t = MON_0900Z - 1800000;
    long long ready0 = s_count (f, "ready"), wrap0 = s_count (f, "wrap_up"), paused0 = s_count (f, "paused");
    assert_int_equal (s_send_agent (f, "x1", PLATEAU__V1__AGENT_STATE__STATE__READY, t + 3000, NULL), 0);
    assert_int_equal (s_send_agent (f, "x2", PLATEAU__V1__AGENT_STATE__STATE__READY, t + 1000, NULL), 0);
    assert_int_equal (s_send_agent (f, "x3", PLATEAU__V1__AGENT_STATE__STATE__ON_CALL, t, NULL), 0);
    /* An id the HTTP door would refuse is refused on the bus too (it names KPI fields downstream). */
    assert_int_equal (s_send_agent (f, "x|4", PLATEAU__V1__AGENT_STATE__STATE__READY, t, NULL), -1);
    assert_int_equal (s_count (f, "ready"), ready0 + 2);
    /* Longest idle first: x2 (ready since t + 1 s) before x1. */
    pl_reply_t *r = pl_redis_command (f->redis, "ZRANGE pl:{camp:%s}:ready 0 -1", CAMPAIGN);
    assert_non_null (r);
    int i2 = -1, i1 = -1;
    for (size_t i = 0; i < pl_reply_len (r); i++) {
        const char *id = pl_reply_str (pl_reply_element (r, i), NULL);
        i2 = id && strcmp (id, "x2") == 0 ? (int) i : i2;
        i1 = id && strcmp (id, "x1") == 0 ? (int) i : i1;
    }
    pl_reply_free (&r);
    assert_true (i2 >= 0 && i1 > i2);
    /* x3 talks 60 s, wraps up 30 s, then is ready: one wrap-up measured, 30 s. */
    assert_int_equal (s_send_agent (f, "x3", PLATEAU__V1__AGENT_STATE__STATE__WRAP_UP, t + 60000, NULL), 0);
    assert_int_equal (s_count (f, "wrap_up"), wrap0 + 1);
    long long wn = s_count (f, "wrap_n"), wms = s_count (f, "wrap_ms");
    assert_int_equal (s_send_agent (f, "x3", PLATEAU__V1__AGENT_STATE__STATE__READY, t + 90000, NULL), 0);
    assert_int_equal (s_count (f, "wrap_up"), wrap0);
    assert_int_equal (s_count (f, "ready"), ready0 + 3);
    assert_int_equal (s_count (f, "wrap_n"), wn + 1);
    assert_int_equal (s_count (f, "wrap_ms"), wms + 30000);
    /* An older state: nothing moves. */
    assert_int_equal (s_send_agent (f, "x1", PLATEAU__V1__AGENT_STATE__STATE__PAUSED, t + 2000, NULL), 0);
    assert_int_equal (s_count (f, "ready"), ready0 + 3);
    assert_int_equal (s_count (f, "paused"), paused0);
    /* The index spoilt (a ghost ready agent, a wrong count): the lease taken again rebuilds it
     * from the agents themselves, keeping the measured times. */
    pl_redis_exec (f->redis, "ZADD pl:{camp:%s}:ready 1 ghost", CAMPAIGN);
    pl_redis_exec (f->redis, "HSET pl:{camp:%s}:agst ready 999", CAMPAIGN);
    pl_redis_exec (f->redis, "DEL pl:{camp:%s}:lease", CAMPAIGN);
    for (int i = 0; i < 300 && s_count (f, "ready") == 999; i++)
        s_pump (f, 50);
    assert_int_equal (s_count (f, "ready"), ready0 + 3);
    assert_int_equal (s_count (f, "wrap_ms"), wms + 30000);
    r = pl_redis_command (f->redis, "ZSCORE pl:{camp:%s}:ready ghost", CAMPAIGN);
    assert_int_equal (pl_reply_type (r), PL_REPLY_NIL);
    pl_reply_free (&r);
    for (int k = 1; k <= 3; k++) {
        char id[16];
        snprintf (id, sizeof id, "x%d", k);
        assert_int_equal (s_send_agent (f, id, PLATEAU__V1__AGENT_STATE__STATE__LOGGED_OUT, t + 100000, NULL), 0);
    }
    assert_int_equal (s_count (f, "ready"), ready0);
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/" CAMPAIGN "/resume", OPS, "{}", NULL), 200);
}

/* Agents' time is counted by state when they leave it, and a ready agent's wait for its call;
 * a resent state counts nothing twice, an older one nothing at all. */
static void
test_agent_time_and_wait_are_counted_once (void **state)
{
    fx_t *f = *state;
    const char *ready = "plateau_dialer_agent_seconds_total{campaign=\"" CAMPAIGN "\",state=\"ready\"}";
    const char *on_call = "plateau_dialer_agent_seconds_total{campaign=\"" CAMPAIGN "\",state=\"on_call\"}";
    const char *waits = "plateau_dialer_agent_wait_seconds_count{campaign=\"" CAMPAIGN "\"}";
    const char *wait_sum = "plateau_dialer_agent_wait_seconds_sum{campaign=\"" CAMPAIGN "\"}";
    double r0 = s_metric (f, ready), w0 = s_metric (f, waits), ws0 = s_metric (f, wait_sum);
    r0 = r0 < 0 ? 0 : r0;
    w0 = w0 < 0 ? 0 : w0;
    ws0 = ws0 < 0 ? 0 : ws0;
    /* Paused meanwhile, so that the ready agent gets no call from the queued lead. */
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/" CAMPAIGN "/pause", OPS, "{}", NULL), 200);
    int64_t t = MON_0900Z - 3600000;
    char on_call_id[PL_ID_LEN + 1] = "";
    assert_int_equal (s_send_agent (f, "t1", PLATEAU__V1__AGENT_STATE__STATE__READY, t, NULL), 0);
    assert_int_equal (s_send_agent (f, "t1", PLATEAU__V1__AGENT_STATE__STATE__ON_CALL, t + 12500, on_call_id), 0);
    assert_int_equal (s_send_agent (f, "t1", PLATEAU__V1__AGENT_STATE__STATE__WRAP_UP, t + 72500, NULL), 0);
    assert_true (fabs (s_metric (f, ready) - r0 - 12.5) < 1e-6);
    assert_true (fabs (s_metric (f, waits) - w0 - 1) < 1e-6);
    assert_true (fabs (s_metric (f, wait_sum) - ws0 - 12.5) < 1e-6);
    double oc = s_metric (f, on_call);
    assert_true (oc >= 60.0 - 1e-6);
    /* The ON_CALL message again (a resend, same id): counted once. A state older than the one
     * held: nothing. */
    assert_int_equal (s_send_agent (f, "t1", PLATEAU__V1__AGENT_STATE__STATE__ON_CALL, t + 12500, on_call_id), 0);
    assert_int_equal (s_send_agent (f, "t1", PLATEAU__V1__AGENT_STATE__STATE__READY, t + 1000, NULL), 0);
    assert_true (fabs (s_metric (f, ready) - r0 - 12.5) < 1e-6);
    assert_true (fabs (s_metric (f, on_call) - oc) < 1e-6);
    assert_true (fabs (s_metric (f, waits) - w0 - 1) < 1e-6);
    assert_int_equal (s_send_agent (f, "t1", PLATEAU__V1__AGENT_STATE__STATE__LOGGED_OUT, t + 80000, NULL), 0);
    assert_true (s_metric (f, "plateau_dialer_agent_seconds_total{campaign=\"" CAMPAIGN "\",state=\"wrap_up\"}") >= 7.5 - 1e-6);
    assert_int_equal (s_http (f, "POST", "/v1/campaigns/" CAMPAIGN "/resume", OPS, "{}", NULL), 200);
    assert_int_equal (f->nchecks, 0);
}

static void
test_a_manual_dial_goes_through_the_same_check (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    /* Queued, no agent ready: nothing is dialled until the agent who asked is. */
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", DESK,
                              "{\"campaign\":\"" CAMPAIGN "\",\"agent\":\"a1\"}", &o), 202);
    assert_string_equal (s_str (o, "campaign"), CAMPAIGN);
    json_decref (o);
    assert_int_equal (s_http (f, "POST", "/v1/leads/01KNOSUCHLEAD/dial", DESK, "{\"agent\":\"a1\"}", NULL), 404);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a1/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"" CAMPAIGN "\"]}", NULL), 204);
    for (int i = 0; i < 400 && f->nchecks == 0; i++)
        s_pump (f, 10);
    assert_int_equal (f->nchecks, 1);
    assert_string_equal (f->check_lead[0], LEAD);
    assert_true (f->check_manual[0]);
    /* Being checked now: not waiting in the queue any more. */
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", OPS, "{\"agent\":\"a1\"}", &o), 409);
    assert_string_equal (s_str (o, "error.code"), "not_queued");
    json_decref (o);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a1/state", DESK,
                              "{\"state\":\"asleep\",\"campaigns\":[\"" CAMPAIGN "\"]}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "state");
    json_decref (o);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a1/state", DESK, "{\"state\":\"paused\",\"campaigns\":[\"nope\"]}", &o),
                      400);
    assert_string_equal (s_str (o, "error.field"), "campaigns[0]");
    json_decref (o);
}

static void
test_a_disposition_for_an_unknown_call_is_404 (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_http (f, "POST", "/v1/calls/01KNOSUCHLEAD.1/disposition", DESK, "{\"code\":\"sale\"}", &o), 404);
    assert_string_equal (s_str (o, "error.field"), "dial_id");
    json_decref (o);
    /* The lead exists, that call of it does not. */
    assert_int_equal (s_http (f, "POST", "/v1/calls/" LEAD ".7/disposition", DESK, "{\"code\":\"sale\"}", NULL), 404);
    assert_int_equal (s_http (f, "POST", "/v1/calls/not-a-dial-id/disposition", DESK, "{\"code\":\"sale\"}", NULL), 404);
    /* What a code needs. */
    assert_int_equal (s_http (f, "POST", "/v1/calls/" LEAD ".1/disposition", DESK, "{\"code\":\"callback\"}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "callback_at");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", "/v1/calls/" LEAD ".1/disposition", DESK,
                              "{\"code\":\"promise_to_pay\",\"promise\":{\"amount_minor\":5000,\"due\":"
                              "\"2026-12-20T00:00:00Z\"}}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "promise.currency");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", "/v1/calls/" LEAD ".1/disposition", DESK, "{\"code\":\"maybe\"}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "code");
    json_decref (o);
}

/* The lead's state as the API tells it, once it is `want` (within 4 s). */
static bool
s_wait_state (fx_t *f, const char *want)
{
    for (int i = 0; i < 200; i++) {
        json_t *o = NULL;
        s_http (f, "GET", "/v1/leads/" LEAD "/why", OPS, NULL, &o);
        bool ok = strcmp (s_str (o, "state"), want) == 0;
        json_decref (o);
        if (ok)
            return true;
        s_pump (f, 20);
    }
    return false;
}

/* Scrub's ALLOW of check dial_id, as the scrub stand-in would send it: 0 when acknowledged. */
static int
s_allow (fx_t *f, const char *dial_id, const char *lead, const char *campaign, const char *zone, const char *profile)
{
    Plateau__V1__DialCheckResult r = PLATEAU__V1__DIAL_CHECK_RESULT__INIT;
    r.check_id = (char *) dial_id;
    r.decision = PLATEAU__V1__DECISION__ALLOW;
    r.lead_id = (char *) lead;
    r.number = NUMBER;
    r.campaign = (char *) campaign;
    r.binding_zone = (char *) zone;
    r.evaluated_at_ms = MON_0900Z;
    r.profile = (char *) profile;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "scrub", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK_RESULT;
    env.dial_check_result = &r;
    return s_send (f, f->as_scrub, &env);
}

/* Telephony's outcome of dial_id: answered after 5 s, bridged to agent. 0 when acknowledged. */
static int
s_answered (fx_t *f, const char *dial_id, const char *lead, const char *campaign, const char *agent,
            const char *tenant)
{
    Plateau__V1__CallOutcome co = PLATEAU__V1__CALL_OUTCOME__INIT;
    co.dial_id = (char *) dial_id;
    co.lead_id = (char *) lead;
    co.campaign = (char *) campaign;
    co.number = NUMBER;
    co.result = PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED;
    co.started_at_ms = MON_0900Z;
    co.answered_at_ms = MON_0900Z + 5000;
    co.agent_id = (char *) agent;
    co.agent_connect_ms = 300;
    co.tenant = (char *) tenant;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "telsim", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME;
    env.call_outcome = &co;
    return s_send (f, f->as_telsim, &env);
}

static void
test_a_disposition_waits_for_the_outcome_and_applies_once (void **state)
{
    fx_t *f = *state;
    assert_true (f->nchecks >= 1);
    const char *dial_id = f->check_id[0];
    char path[256];
    snprintf (path, sizeof path, "/v1/calls/%s/disposition", dial_id);
    /* Scrub allows the manual dial: the call is placed, its outcome not in yet. */
    assert_int_equal (s_allow (f, dial_id, LEAD, CAMPAIGN, "Europe/Paris", "fr-cc"), 0);
    assert_true (s_wait_state (f, "placed"));
    json_t *o = NULL;
    const char *body = "{\"code\":\"callback\",\"agent\":\"a1\",\"callback_at\":\"2026-12-08T09:30:00+01:00\","
                       "\"note\":\"after the school run\"}";
    assert_int_equal (s_http (f, "POST", path, DESK, body, &o), 409);
    assert_string_equal (s_str (o, "error.code"), "outcome_pending");
    json_decref (o);
    /* Answered and bridged to the agent: now the disposition applies, once. */
    assert_int_equal (s_answered (f, dial_id, LEAD, CAMPAIGN, "a1", "acme-energie"), 0);
    assert_true (s_wait_state (f, "talking"));
    assert_int_equal (s_http (f, "POST", path, DESK, body, &o), 200);
    assert_string_equal (s_str (o, "status"), "applied");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", path, DESK, body, NULL), 404);
    /* The callback is the lead's next attempt, in Paris time. */
    assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why", READER, NULL, &o), 200);
    assert_string_equal (s_str (o, "state"), "queued");
    assert_string_equal (s_str (o, "next_attempt.reason"), "callback");
    assert_string_equal (s_str (o, "next_attempt.local"), "2026-12-08T09:30:00+01:00");
    assert_string_equal (s_str (o, "last_disposition"), "callback");
    json_decref (o);
}

/* ---- attacks on the door -------------------------------------------------------------------- */

static void
test_a_body_over_16_kib_is_413 (void **state)
{
    fx_t *f = *state;
    size_t n = 17 * 1024;
    char *body = malloc (n + 64);
    snprintf (body, n + 64, "{\"code\":\"sale\",\"note\":\"");
    size_t u = strlen (body);
    memset (body + u, 'x', n);
    snprintf (body + u + n, 64, "\"}");
    assert_int_equal (s_http (f, "POST", "/v1/calls/" LEAD ".1/disposition", DESK, body, NULL), 413);
    free (body);
}

static void
test_unknown_members_are_refused_by_name (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a1/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"" CAMPAIGN "\"],\"colour\":\"blue\"}", &o), 400);
    assert_string_equal (s_str (o, "error.code"), "unknown_field");
    assert_string_equal (s_str (o, "error.field"), "colour");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", "/v1/calls/" LEAD ".1/disposition", DESK,
                              "{\"code\":\"promise_to_pay\",\"promise\":{\"amount_minor\":1,\"currency\":\"EUR\","
                              "\"due\":\"2026-12-20T00:00:00Z\",\"rate\":3}}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "promise.rate");
    json_decref (o);
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", DESK, "{\"agent\":\"a1\",\"bypass\":true}", &o), 400);
    assert_string_equal (s_str (o, "error.field"), "bypass");
    json_decref (o);
}

static void
test_broken_json_is_400_with_its_place (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", DESK, "{\n  \"agent\": \"a1\",,\n}", &o), 400);
    assert_string_equal (s_str (o, "error.code"), "bad_json");
    json_t *e = json_object_get (o, "error");
    assert_int_equal (json_integer_value (json_object_get (e, "line")), 2);
    assert_true (json_integer_value (json_object_get (e, "column")) > 0);
    json_decref (o);
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", DESK, "{\"agent\":\"a1\",\"agent\":\"a2\"}", NULL),
                      400);
    assert_int_equal (s_http (f, "POST", "/v1/leads/" LEAD "/dial", DESK, "[1,2]", NULL), 400);
}

/* An operator defines a campaign over the API: checked whole (an error names the line and the
 * key), stored in the registry, in force at once (a lead of it is queued); replaced the same
 * way; a file's campaign is refused with the file named; only operators may. */
static void
test_an_operator_defines_a_campaign_over_the_api (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    const char *path = "/v1/campaigns/fr-new";
    const char *text = "[campaign]\nprofile = fr-cc\ntenant  = acme-new\ncli     = +33162000002\n\n"
                       "[dialer]\nmode = preview\nmax-attempts = 3\n";
    assert_int_equal (s_http_body (f, "PUT", path, DESK, "text/plain", text, strlen (text), NULL), 403);
    assert_int_equal (s_http_body (f, "PUT", path, READER, "text/plain", text, strlen (text), NULL), 403);
    assert_int_equal (s_http_body (f, "PUT", path, OPS, "application/json", "{}", 2, NULL), 415);
    size_t big = 64 * 1024 + 1;
    char *huge = malloc (big);
    memset (huge, '#', big);
    assert_int_equal (s_http_body (f, "PUT", path, OPS, "text/plain", huge, big, NULL), 413);
    free (huge);
    const char *bad = "[campaign]\nprofile = fr-cc\ntenant = acme-new\n\n[dialer]\nmode = sideways\n";
    assert_int_equal (s_http_body (f, "PUT", path, OPS, "text/plain", bad, strlen (bad), &o), 400);
    assert_string_equal (s_str (o, "error.code"), "invalid_campaign");
    assert_string_equal (s_str (o, "error.field"), "mode");
    assert_int_equal (json_integer_value (json_object_get (json_object_get (o, "error"), "line")), 6);
    json_decref (o);
    const char *wide = "[campaign]\nprofile = fr-cc\ntenant = acme-new\n\n[rule fr.hours]\nhours = 07:00-22:00\n";
    assert_int_equal (s_http_body (f, "PUT", path, OPS, "text/plain", wide, strlen (wide), &o), 400);
    assert_non_null (strstr (s_str (o, "error.message"), "rule fr.hours: would widen the profile"));
    json_decref (o);
    assert_int_equal (s_http_body (f, "PUT", "/v1/campaigns/" CAMPAIGN, OPS, "text/plain", text, strlen (text), &o), 409);
    assert_string_equal (s_str (o, "error.code"), "defined_by_file");
    assert_non_null (strstr (s_str (o, "error.message"), CAMPAIGN ".campaign"));
    json_decref (o);
    assert_int_equal (s_http_body (f, "PUT", "/v1/campaigns/Bad%20Name", OPS, "text/plain", text, strlen (text), NULL), 400);
    /* Nothing refused above was stored. */
    pl_reply_t *r = pl_redis_command (f->redis, "HLEN pl:{campaigns}:def");
    assert_int_equal (pl_reply_int (r), 0);
    pl_reply_free (&r);

    assert_int_equal (s_http_body (f, "PUT", path, OPS, "text/plain", text, strlen (text), &o), 201);
    assert_string_equal (s_str (o, "status"), "created");
    assert_string_equal (s_str (o, "tenant"), "acme-new");
    assert_string_equal (s_str (o, "mode"), "preview");
    assert_string_equal (s_str (o, "defined_by"), "PUT /v1/campaigns/fr-new");
    json_decref (o);
    r = pl_redis_command (f->redis, "HGET pl:{campaigns}:def fr-new");
    assert_string_equal (pl_reply_str (r, NULL), text);
    pl_reply_free (&r);
    assert_int_equal (s_http (f, "GET", path, READER, NULL, &o), 200);
    assert_string_equal (s_str (o, "definition"), text);
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/campaigns", READER, NULL, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "campaigns")), 2);
    json_decref (o);
    /* In force: a lead of it is queued and explained. */
    assert_int_equal (s_send_lead_in (f, "01KDIALERAPILEADNEW0000001", "fr-new"), 0);
    assert_int_equal (s_http (f, "GET", "/v1/leads/01KDIALERAPILEADNEW0000001/why?campaign=fr-new", READER, NULL, &o), 200);
    assert_string_equal (s_str (o, "campaign"), "fr-new");
    json_decref (o);
    /* Replaced. */
    const char *text2 = "[campaign]\nprofile = fr-cc\ntenant  = acme-new\n\n[dialer]\nmode = progressive\n";
    assert_int_equal (s_http_body (f, "PUT", path, OPS, "text/plain", text2, strlen (text2), &o), 200);
    assert_string_equal (s_str (o, "status"), "replaced");
    assert_string_equal (s_str (o, "mode"), "progressive");
    json_decref (o);
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/nope", READER, NULL, NULL), 404);
    /* plateauctl: a file's error names the file's line; show prints the definition in force. */
    char file[600], cmd[800], out[4096];
    snprintf (file, sizeof file, "%s/draft.campaign", f->dir);
    FILE *fp = fopen (file, "w");
    fputs (bad, fp);
    fclose (fp);
    snprintf (cmd, sizeof cmd, "campaign put fr-new %s", file);
    assert_int_equal (s_ctl (f, OPS, cmd, out, sizeof out), 1);
    assert_non_null (strstr (out, "draft.campaign:6: key 'mode'"));
    assert_int_equal (s_ctl (f, READER, "campaign show fr-new", out, sizeof out), 0);
    assert_non_null (strstr (out, "# definition in force:\n[campaign]"));
    assert_non_null (strstr (out, "mode = progressive"));
    /* The registry is bounded: with 1,000 definitions a new name is refused, a known one is
     * still replaced. (Filled behind the services' backs: the revision does not move.) */
    r = pl_redis_command (f->redis, "EVAL %s 1 pl:{campaigns}:def", "for i = 1, 999 do redis.call('HSET', KEYS[1], 'x' .. i, '#') end");
    pl_reply_free (&r);
    assert_int_equal (s_http_body (f, "PUT", "/v1/campaigns/fr-more", OPS, "text/plain", text, strlen (text), &o), 409);
    assert_string_equal (s_str (o, "error.code"), "registry_full");
    json_decref (o);
    assert_int_equal (s_http_body (f, "PUT", path, OPS, "text/plain", text, strlen (text), NULL), 200);
    r = pl_redis_command (f->redis, "EVAL %s 1 pl:{campaigns}:def", "for i = 1, 999 do redis.call('HDEL', KEYS[1], 'x' .. i) end");
    pl_reply_free (&r);
}

/* ---- a broken promise ------------------------------------------------------------------------ */

/* A broken promise from the promise service queues its finished lead again at once, through the
 * same check at the dial as any other attempt; from anyone else, or twice, nothing more. */
static void
test_a_broken_promise_queues_its_finished_lead_again (void **state)
{
    fx_t *f = *state;
    const char *lead = "01KDIALERAPIPROMISE0000001";
    assert_int_equal (s_send_lead_in (f, lead, CAMPAIGN), 0);
    /* Finished, as after the call where the promise was made. */
    pl_redis_exec (f->redis, "HSET pl:{camp:%s}:dl:%s state done fin contacted", CAMPAIGN, lead);
    pl_redis_exec (f->redis, "ZREM pl:{camp:%s}:due %s", CAMPAIGN, lead);
    Plateau__V1__PromiseBroken pb = PLATEAU__V1__PROMISE_BROKEN__INIT;
    pb.promise_id = "P-77";
    pb.lead_id = (char *) lead;
    pb.account_ref = "ACC-77";
    pb.campaign = CAMPAIGN;
    pb.at_ms = MON_0900Z;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    /* Telephony may not say a promise broke. */
    pl_envelope_init (&env, &ids, "telsim", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN;
    env.promise_broken = &pb;
    assert_int_equal (s_send (f, f->as_telsim, &env), -1);
    pl_reply_t *r = pl_redis_command (f->redis, "HGET pl:{camp:%s}:dl:%s state", CAMPAIGN, lead);
    assert_string_equal (pl_reply_str (r, NULL), "done");
    pl_reply_free (&r);
    pl_envelope_init (&env, &ids, "promise", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN;
    env.promise_broken = &pb;
    assert_int_equal (s_send (f, f->as_promise, &env), 0);
    r = pl_redis_command (f->redis, "HGET pl:{camp:%s}:dl:%s state", CAMPAIGN, lead);
    const char *st = pl_reply_str (r, NULL);
    /* Queued, or already claimed by the pacing for its check at the dial. */
    assert_true (st && (!strcmp (st, "queued") || !strcmp (st, "claimed") || !strcmp (st, "checking")));
    pl_reply_free (&r);
    json_t *o = NULL;
    assert_int_equal (s_http (f, "GET", "/v1/leads/01KDIALERAPIPROMISE0000001/why", READER, NULL, &o), 200);
    assert_string_not_equal (s_str (o, "state"), "done");
    json_decref (o);
}

/* ---- a promise holds its debt ------------------------------------------------------------------ */

/* A lead's state and due instant in Redis ("" and 0 when absent). */
static void
s_lead_state (fx_t *f, const char *campaign, const char *lead, char *state, size_t size, int64_t *due)
{
    pl_reply_t *r = pl_redis_command (f->redis, "HMGET pl:{camp:%s}:dl:%s state due", campaign, lead);
    const char *st = r ? pl_reply_str (pl_reply_element (r, 0), NULL) : NULL;
    const char *d = r ? pl_reply_str (pl_reply_element (r, 1), NULL) : NULL;
    snprintf (state, size, "%s", st ? st : "");
    *due = d ? strtoll (d, NULL, 10) : 0;
    pl_reply_free (&r);
}

/* Whether lead of campaign reaches state `want` in Redis within 4 s. */
static bool
s_wait_lead (fx_t *f, const char *campaign, const char *lead, const char *want)
{
    char st[32];
    int64_t due;
    for (int i = 0; i < 200; i++) {
        s_lead_state (f, campaign, lead, st, sizeof st, &due);
        if (!strcmp (st, want))
            return true;
        s_pump (f, 20);
    }
    return false;
}

/* The number of DialChecks seen for lead. */
static int
s_checks_of (fx_t *f, const char *lead)
{
    int n = 0;
    for (size_t i = 0; i < f->nchecks; i++)
        n += strcmp (f->check_lead[i], lead) == 0;
    return n;
}

/* A promise made on a collection call holds the tenant's other leads of that debt: they are not
 * claimed (no check, no attempt) but wait, rescheduled, until the promise's due date has ended
 * everywhere; a lead of another debt is dialled; the hold lifts when the promise service says
 * the promise is kept, and only for that promise. */
static void
test_a_promise_holds_the_other_leads_of_its_debt_until_decided (void **state)
{
    fx_t *f = *state;
    const char *camp = "us-coll", *lead_a = "01KDIALERAPIHOLDA000000001", *lead_b = "01KDIALERAPIHOLDB000000001",
               *lead_c = "01KDIALERAPIHOLDC000000001";
    const char *text = "[campaign]\nprofile = us-dc\ntenant  = coll-t\ncli     = +12025550143\n\n"
                       "[dialer]\nmode = progressive\nmax-attempts = 3\n";
    assert_int_equal (s_http_body (f, "PUT", "/v1/campaigns/us-coll", OPS, "text/plain", text, strlen (text), NULL),
                      201);
    assert_int_equal (s_send_lead_debt (f, lead_a, camp, "ACC-HOLD"), 0);
    json_t *o = NULL;
    int rc = 0;
    for (int i = 0; i < 200; i++) {        /* the campaign's pacing takes its lease */
        rc = s_http (f, "POST", "/v1/leads/01KDIALERAPIHOLDA000000001/dial", DESK,
                     "{\"campaign\":\"us-coll\",\"agent\":\"a3\"}", NULL);
        if (rc == 202)
            break;
        s_pump (f, 25);
    }
    assert_int_equal (rc, 202);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a3/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"us-coll\"]}", NULL), 204);
    for (int i = 0; i < 800 && s_checks_of (f, lead_a) == 0; i++)
        s_pump (f, 10);
    assert_int_equal (s_checks_of (f, lead_a), 1);
    char dial_id[96] = "";
    for (size_t i = 0; i < f->nchecks; i++)
        if (strcmp (f->check_lead[i], lead_a) == 0)
            snprintf (dial_id, sizeof dial_id, "%s", f->check_id[i]);
    /* Allowed, answered: the debtor promises $50 for 2026-12-20. */
    assert_int_equal (s_allow (f, dial_id, lead_a, camp, "America/New_York", "us-dc"), 0);
    char st[32];
    int64_t due = 0;
    assert_true (s_wait_lead (f, camp, lead_a, "placed"));
    assert_int_equal (s_answered (f, dial_id, lead_a, camp, "a3", "coll-t"), 0);
    assert_true (s_wait_lead (f, camp, lead_a, "talking"));
    char path[200];
    snprintf (path, sizeof path, "/v1/calls/%s/disposition", dial_id);
    assert_int_equal (s_http (f, "POST", path, DESK,
                              "{\"code\":\"promise_to_pay\",\"agent\":\"a3\",\"promise\":{\"amount_minor\":5000,"
                              "\"currency\":\"USD\",\"due\":\"2026-12-20T17:00:00Z\"}}", &o), 200);
    json_decref (o);
    /* The promise waits for a promise service in the outbox; the right-party contact does not:
     * this dialer has no PLATEAU_PROMISE_BUS, and a count nobody reads must not pile up. */
    assert_int_equal (s_to_promise (f, camp, "PromiseMade"), 1);
    assert_int_equal (s_to_promise (f, camp, "Disposition"), 0);
    /* The hold: the promise, until the due instant + 25 h. */
    const int64_t due_ms = 1797786000000LL;                /* 2026-12-20 17:00 UTC */
    char promise[128];
    snprintf (promise, sizeof promise, "%s.promise", dial_id);
    pl_reply_t *h = pl_redis_command (f->redis, "HMGET pl:{debt:coll-t|ACC-HOLD}:hold p until");
    assert_string_equal (pl_reply_str (pl_reply_element (h, 0), NULL), promise);
    assert_int_equal (strtoll (pl_reply_str (pl_reply_element (h, 1), NULL), NULL, 10), due_ms + 25 * 3600000LL);
    pl_reply_free (&h);

    /* Another lead of the debt, and one of another debt: the first waits, the second is dialled. */
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a3/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"us-coll\"]}", NULL), 204);
    assert_int_equal (s_send_lead_debt (f, lead_b, camp, "ACC-HOLD"), 0);
    for (int i = 0; i < 400; i++) {
        s_lead_state (f, camp, lead_b, st, sizeof st, &due);
        if (due == due_ms + 25 * 3600000LL)
            break;
        s_pump (f, 10);
    }
    assert_string_equal (st, "queued");
    assert_int_equal (due, due_ms + 25 * 3600000LL);
    assert_int_equal (s_checks_of (f, lead_b), 0);
    assert_int_equal (s_send_lead_debt (f, lead_c, camp, "ACC-OTHER"), 0);
    for (int i = 0; i < 800 && s_checks_of (f, lead_c) == 0; i++)
        s_pump (f, 10);
    assert_int_equal (s_checks_of (f, lead_c), 1);
    assert_int_equal (s_checks_of (f, lead_b), 0);
    /* Telephony may not say a promise was kept: refused, the hold stands. Another promise kept
     * does not lift this one's hold either; this one kept does. */
    Plateau__V1__PromiseKept pk = PLATEAU__V1__PROMISE_KEPT__INIT;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pk.promise_id = promise;
    pk.lead_id = (char *) lead_a;
    pk.account_ref = "ACC-HOLD";
    pk.instalment = -1;
    pk.campaign = (char *) camp;
    pl_envelope_init (&env, &ids, "telsim", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT;
    env.promise_kept = &pk;
    assert_int_equal (s_send (f, f->as_telsim, &env), -1);
    h = pl_redis_command (f->redis, "EXISTS pl:{debt:coll-t|ACC-HOLD}:hold");
    assert_int_equal (pl_reply_int (h), 1);
    pl_reply_free (&h);
    pk.promise_id = "P-OTHER";
    pl_envelope_init (&env, &ids, "promise", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT;
    env.promise_kept = &pk;
    assert_int_equal (s_send (f, f->as_promise, &env), 0);
    h = pl_redis_command (f->redis, "EXISTS pl:{debt:coll-t|ACC-HOLD}:hold");
    assert_int_equal (pl_reply_int (h), 1);
    pl_reply_free (&h);
    pk.promise_id = promise;
    pl_envelope_init (&env, &ids, "promise", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT;
    env.promise_kept = &pk;
    assert_int_equal (s_send (f, f->as_promise, &env), 0);
    h = pl_redis_command (f->redis, "EXISTS pl:{debt:coll-t|ACC-HOLD}:hold");
    assert_int_equal (pl_reply_int (h), 0);
    pl_reply_free (&h);
}

/* A promise the dialer did not see made (opened over the API, or reopened by a reversal) holds
 * its debt when the promise service says so, and only the promise service may say it; a hold
 * of another promise lasting longer stays; the promise kept, its hold lifts by its tenant. */
static void
test_a_promise_opened_elsewhere_holds_its_debt (void **state)
{
    fx_t *f = *state;
    int64_t now = pl_clock_now_ms (f->clock);
    Plateau__V1__PromiseActive pa = PLATEAU__V1__PROMISE_ACTIVE__INIT;
    pa.promise_id = "P-API-1";
    pa.account_ref = "ACC-API";
    pa.tenant = "coll-t";
    pa.until_ms = now + 10 * 86400000LL;
    pa.at_ms = now;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "telsim", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE;
    env.promise_active = &pa;
    assert_int_equal (s_send (f, f->as_telsim, &env), -1);          /* forged: refused */
    pl_reply_t *h = pl_redis_command (f->redis, "EXISTS pl:{debt:coll-t|ACC-API}:hold");
    assert_int_equal (pl_reply_int (h), 0);
    pl_reply_free (&h);
    pl_envelope_init (&env, &ids, "promise", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE;
    env.promise_active = &pa;
    assert_int_equal (s_send (f, f->as_promise, &env), 0);
    h = pl_redis_command (f->redis, "HMGET pl:{debt:coll-t|ACC-API}:hold p until");
    assert_string_equal (pl_reply_str (pl_reply_element (h, 0), NULL), "P-API-1");
    assert_int_equal (strtoll (pl_reply_str (pl_reply_element (h, 1), NULL), NULL, 10), pa.until_ms);
    pl_reply_free (&h);
    /* Another promise ending sooner does not shorten it. */
    pa.promise_id = "P-API-2";
    pa.until_ms = now + 86400000LL;
    pl_envelope_init (&env, &ids, "promise", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE;
    env.promise_active = &pa;
    assert_int_equal (s_send (f, f->as_promise, &env), 0);
    h = pl_redis_command (f->redis, "HGET pl:{debt:coll-t|ACC-API}:hold p");
    assert_string_equal (pl_reply_str (h, NULL), "P-API-1");
    pl_reply_free (&h);
    /* A lead of the debt waits, an agent ready. */
    const char *lead = "01KDIALERAPIAPIHOLD0000001";
    assert_int_equal (s_send_lead_number (f, lead, "us-coll", "ACC-API", "+12025550177"), 0);
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a10/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"us-coll\"]}", NULL), 204);
    char st[32] = "";
    int64_t due = 0;
    for (int i = 0; i < 400; i++) {
        s_lead_state (f, "us-coll", lead, st, sizeof st, &due);
        if (due == now + 10 * 86400000LL)
            break;
        s_pump (f, 10);
    }
    assert_string_equal (st, "queued");
    assert_int_equal (due, now + 10 * 86400000LL);
    /* Kept, named by its tenant (no campaign): the hold lifts. */
    Plateau__V1__PromiseKept pk = PLATEAU__V1__PROMISE_KEPT__INIT;
    pk.promise_id = "P-API-1";
    pk.account_ref = "ACC-API";
    pk.instalment = -1;
    pk.tenant = "coll-t";
    pl_envelope_init (&env, &ids, "promise", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT;
    env.promise_kept = &pk;
    assert_int_equal (s_send (f, f->as_promise, &env), 0);
    h = pl_redis_command (f->redis, "EXISTS pl:{debt:coll-t|ACC-API}:hold");
    assert_int_equal (pl_reply_int (h), 0);
    pl_reply_free (&h);
}

/* Regulation F counts calls about a debt to whichever number: the claim of a lead of a debt sends
 * scrub the calls to the debt's other numbers too, flagged OTHER_NUMBER (so that caps by number
 * leave them out); a lead of another debt gets none of them. */
static void
test_a_debt_s_calls_to_its_other_numbers_reach_the_check (void **state)
{
    fx_t *f = *state;
    const char *camp = "us-coll";
    struct { const char *lead, *debt, *number, *agent; } calls[] = {
        { "01KDIALERAPIDEBTD000000001", "ACC-TWO", "+12025550101", "a7" },
        { "01KDIALERAPIDEBTE000000001", "ACC-TWO", "+12025550102", "a8" },
        { "01KDIALERAPIDEBTG000000001", "ACC-ELSE", "+12025550103", "a9" },
    };
    int at[3] = { 0 };
    for (int k = 0; k < 3; k++) {
        assert_int_equal (s_send_lead_number (f, calls[k].lead, camp, calls[k].debt, calls[k].number), 0);
        char path[160], body[160];
        snprintf (path, sizeof path, "/v1/leads/%s/dial", calls[k].lead);
        snprintf (body, sizeof body, "{\"campaign\":\"%s\",\"agent\":\"%s\"}", camp, calls[k].agent);
        int rc = 0;
        for (int i = 0; i < 200 && (rc = s_http (f, "POST", path, DESK, body, NULL)) != 202; i++)
            s_pump (f, 25);                 /* the lead reaches the dialer first */
        assert_int_equal (rc, 202);
        snprintf (path, sizeof path, "/v1/agents/%s/state", calls[k].agent);
        snprintf (body, sizeof body, "{\"state\":\"ready\",\"campaigns\":[\"%s\"]}", camp);
        assert_int_equal (s_http (f, "PUT", path, DESK, body, NULL), 204);
        for (int i = 0; i < 800 && s_checks_of (f, calls[k].lead) == 0; i++)
            s_pump (f, 10);
        printf ("# %s: %d checks (%zu seen)\n", calls[k].lead, s_checks_of (f, calls[k].lead), f->nchecks);
        assert_int_equal (s_checks_of (f, calls[k].lead), 1);
        for (size_t i = 0; i < f->nchecks; i++)
            if (strcmp (f->check_lead[i], calls[k].lead) == 0)
                at[k] = (int) i;
    }
    printf ("# checks: D %d entries (%d other numbers), E %d (%d), G %d (%d)\n", f->check_hist[at[0]],
            f->check_other[at[0]], f->check_hist[at[1]], f->check_other[at[1]], f->check_hist[at[2]],
            f->check_other[at[2]]);
    assert_int_equal (f->check_other[at[0]], 0);
    assert_int_equal (f->check_other[at[1]], 1);           /* D's call, to the debt's other number */
    assert_string_equal (f->check_other_debt[at[1]], "ACC-TWO");
    assert_int_equal (f->check_other[at[2]], 0);
    /* And in Redis: the debt's history holds both attempts with their numbers. */
    pl_reply_t *h = pl_redis_command (f->redis, "HLEN pl:{debt:coll-t|ACC-TWO}:hist");
    assert_int_equal (pl_reply_int (h), 2);
    pl_reply_free (&h);
}

/* A manual dial of a new lead of campaign camp by agent, checked and allowed: placed. Its
 * attempt id in dial_id. */
static void
s_place_manual (fx_t *f, const char *camp, const char *lead, const char *agent, char *dial_id, size_t size)
{
    assert_int_equal (s_send_lead_debt (f, lead, camp, NULL), 0);
    char path[160], body[160];
    snprintf (path, sizeof path, "/v1/leads/%s/dial", lead);
    snprintf (body, sizeof body, "{\"campaign\":\"%s\",\"agent\":\"%s\"}", camp, agent);
    int rc = 0;
    for (int i = 0; i < 600 && (rc = s_http (f, "POST", path, DESK, body, NULL)) != 202 && rc != 409; i++)
        s_pump (f, 25);
    if (rc != 202 && rc != 409)    /* 409: the pacing claimed it first for a ready agent */
        fail_msg ("%s: the manual dial answered %d", lead, rc);
    snprintf (path, sizeof path, "/v1/agents/%s/state", agent);
    snprintf (body, sizeof body, "{\"state\":\"ready\",\"campaigns\":[\"%s\"]}", camp);
    assert_int_equal (s_http (f, "PUT", path, DESK, body, NULL), 204);
    for (int i = 0; i < 800 && s_checks_of (f, lead) == 0; i++)
        s_pump (f, 10);
    *dial_id = '\0';
    for (size_t i = 0; i < f->nchecks; i++)
        if (strcmp (f->check_lead[i], lead) == 0)
            snprintf (dial_id, size, "%s", f->check_id[i]);
    assert_true (*dial_id);
    assert_int_equal (s_allow (f, dial_id, lead, camp, "America/New_York", "us-dc"), 0);
    assert_true (s_wait_lead (f, camp, lead, "placed"));
}

/* Telephony's CallProgress BRIDGED for dial_id. 0 when acknowledged. */
static int
s_bridged (fx_t *f, const char *dial_id, const char *camp)
{
    Plateau__V1__CallProgress cp = PLATEAU__V1__CALL_PROGRESS__INIT;
    cp.dial_id = (char *) dial_id;
    cp.campaign = (char *) camp;
    cp.stage = PLATEAU__V1__CALL_PROGRESS__STAGE__BRIDGED;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "telsim", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS;
    env.call_progress = &cp;
    return s_send (f, f->as_telsim, &env);
}

/* The score of member in the campaign's sorted set `set`, -1 when absent. */
static double
s_zscore (fx_t *f, const char *camp, const char *set, const char *member)
{
    pl_reply_t *z = pl_redis_command (f->redis, "ZSCORE pl:{camp:%s}:%s %s", camp, set, member);
    double v = z && pl_reply_type (z) != PL_REPLY_NIL ? strtod (pl_reply_str (z, NULL) ?: "-1", NULL) : -1;
    pl_reply_free (&z);
    return v;
}

/* A call telephony never ended (its adapter crashed with the call in flight): the attempt does
 * not hold its line and its lead for ever. Placed without an outcome past the ring timeout and
 * 10 minutes, or answered without a disposition for 4 hours, and claimed over a minute of real
 * time ago (made so here by ageing the attempt in Redis): the lead is requeued under the retry
 * policy, the line freed, and dial.scheduled says outcome_lost / disposition_lost. */
static void
test_a_call_telephony_never_ended_frees_its_line (void **state)
{
    fx_t *f = *state;
    const char *camp = "us-coll";
    struct { const char *lead, *agent; bool answer; const char *step; } calls[] = {
        { "01KDIALERAPILOSTP000000001", "a12", false, "outcome_lost" },
        { "01KDIALERAPILOSTT000000001", "a13", true, "disposition_lost" },
    };
    for (int k = 0; k < 2; k++) {
        char dial_id[96] = "";
        s_place_manual (f, camp, calls[k].lead, calls[k].agent, dial_id, sizeof dial_id);
        const char *zset = "inflight";
        if (calls[k].answer) {
            /* Answered and bridged to the agent: out of the lines in flight, into the bridged. */
            assert_int_equal (s_answered (f, dial_id, calls[k].lead, camp, calls[k].agent, "coll-t"), 0);
            assert_true (s_wait_lead (f, camp, calls[k].lead, "talking"));
            assert_int_equal (s_bridged (f, dial_id, camp), 0);
            assert_true (s_zscore (f, camp, "inflight", dial_id) < 0);       /* absent */
            assert_true (s_zscore (f, camp, "bridged", dial_id) > 0);
            zset = "bridged";
        }
        /* Nothing more from telephony. Aged: claimed 5 hours ago, 2 minutes of real time ago. */
        char at[24], wall[24];
        snprintf (at, sizeof at, "%lld", (long long) (MON_0900Z - 5 * 3600000LL));
        snprintf (wall, sizeof wall, "%lld", (long long) (pl_clock_now_ms (NULL) - 120000));
        assert_int_equal (pl_redis_exec (f->redis, "HSET pl:{camp:%s}:dl:%s at %s", camp, calls[k].lead, at), 0);
        assert_int_equal (pl_redis_exec (f->redis, "ZADD pl:{camp:%s}:%s XX %s %s", camp, zset, wall, dial_id), 0);
        /* The recovery (every 5 s) ends it. */
        char st[32] = "";
        int64_t due = 0;
        for (int i = 0; i < 600; i++) {
            s_lead_state (f, camp, calls[k].lead, st, sizeof st, &due);
            if (strcmp (st, calls[k].answer ? "talking" : "placed") != 0)
                break;
            s_pump (f, 20);
        }
        assert_true (strcmp (st, "queued") == 0 || strcmp (st, "done") == 0);
        pl_reply_t *z = pl_redis_command (f->redis, "ZSCORE pl:{camp:%s}:%s %s", camp, zset, dial_id);
        assert_int_equal (pl_reply_type (z), PL_REPLY_NIL);                  /* its line is free */
        pl_reply_free (&z);
        char sample[120];
        snprintf (sample, sizeof sample, "plateau_dialer_steps_total{step=\"%s\",result=\"ok\"}", calls[k].step);
        assert_true (s_metric (f, sample) == 1);
    }
}

/* A bridged call that ends as it should leaves the bridged calls with its disposition (so that
 * the queue's count of calls with an agent is the live ones, which a drain waits on), and a
 * BRIDGED that arrives after the call ended does not bring it back. */
static void
test_a_bridged_call_leaves_the_bridged_calls_when_it_ends (void **state)
{
    fx_t *f = *state;
    const char *camp = "us-coll", *lead = "01KDIALERAPIBRIDGE00000001", *agent = "a14";
    char dial_id[96] = "", path[160];
    s_place_manual (f, camp, lead, agent, dial_id, sizeof dial_id);
    assert_int_equal (s_answered (f, dial_id, lead, camp, agent, "coll-t"), 0);
    assert_true (s_wait_lead (f, camp, lead, "talking"));
    assert_int_equal (s_bridged (f, dial_id, camp), 0);
    assert_true (s_zscore (f, camp, "bridged", dial_id) > 0);
    json_t *o = NULL;
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/us-coll/queue", READER, NULL, &o), 200);
    assert_int_equal (json_integer_value (json_object_get (o, "calls_bridged")), 1);
    json_decref (o);
    o = NULL;
    snprintf (path, sizeof path, "/v1/calls/%s/disposition", dial_id);
    assert_int_equal (s_http (f, "POST", path, DESK, "{\"code\":\"sale\"}", NULL), 200);
    char st[32] = "";
    int64_t due = 0;
    for (int i = 0; i < 400; i++) {
        s_lead_state (f, camp, lead, st, sizeof st, &due);
        if (strcmp (st, "talking") != 0)
            break;
        s_pump (f, 10);
    }
    assert_string_equal (st, "done");
    assert_true (s_zscore (f, camp, "bridged", dial_id) < 0);       /* absent */
    /* A late, redelivered BRIDGED of the ended call: acknowledged, nothing comes back. */
    assert_int_equal (s_bridged (f, dial_id, camp), 0);
    assert_true (s_zscore (f, camp, "bridged", dial_id) < 0);       /* absent */
    assert_true (s_zscore (f, camp, "inflight", dial_id) < 0);       /* absent */
    assert_int_equal (s_http (f, "GET", "/v1/campaigns/us-coll/queue", READER, NULL, &o), 200);
    assert_int_equal (json_integer_value (json_object_get (o, "calls_bridged")), 0);
    json_decref (o);
}

/* ---- a check scrub refuses ------------------------------------------------------------------ */

static void
test_a_check_refused_for_good_frees_its_line_at_once_and_requeues_the_lead_later (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    f->refuse_checks = true;
    assert_int_equal (s_http (f, "PUT", "/v1/agents/a1/state", DESK,
                              "{\"state\":\"ready\",\"campaigns\":[\"" CAMPAIGN "\"]}", NULL), 204);
    for (int i = 0; i < 400 && f->nchecks == 0; i++)
        s_pump (f, 10);
    assert_int_equal (f->nchecks, 1);
    /* Voided on the refusal, not after the recovery's 30 s of real time: the lead is queued
     * again, five minutes later on the campaign's clock (which stands still here), so a floor
     * whose every check is refused does not spin. */
    int64_t t0 = pl_clock_mono_ms ();
    const char *state_now = "";
    for (int i = 0; i < 100; i++) {
        s_pump (f, 100);
        json_decref (o);
        o = NULL;
        assert_int_equal (s_http (f, "GET", "/v1/leads/" LEAD "/why", READER, NULL, &o), 200);
        state_now = s_str (o, "state");
        if (strcmp (state_now, "queued") == 0)
            break;
    }
    assert_string_equal (state_now, "queued");
    assert_true (pl_clock_mono_ms () - t0 < 10000);
    assert_string_equal (s_str (o, "next_attempt.local"), "2026-12-07T10:05:00+01:00");
    json_decref (o);
    /* The line is free (nothing in flight), the attempt is out of the person's history, and the
     * agent stays ready with no second check until the lead is due. */
    pl_reply_t *r = pl_redis_command (f->redis, "ZCARD pl:{camp:%s}:inflight", CAMPAIGN);
    assert_non_null (r);
    assert_int_equal (pl_reply_int (r), 0);
    pl_reply_free (&r);
    /* Its agent, reserved for the call, is ready for the next one again. */
    r = pl_redis_command (f->redis, "HEXISTS pl:{camp:%s}:resv a1", CAMPAIGN);
    assert_int_equal (pl_reply_int (r), 0);
    pl_reply_free (&r);
    r = pl_redis_command (f->redis, "ZSCORE pl:{camp:%s}:ready a1", CAMPAIGN);
    assert_int_equal (pl_reply_type (r), PL_REPLY_STRING);
    pl_reply_free (&r);
    s_pump (f, 1000);
    assert_int_equal (f->nchecks, 1);
    char metrics[1 << 16];
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &body), 200);
    snprintf (metrics, sizeof metrics, "%s", body ? body : "");
    free (body);
    assert_non_null (strstr (metrics, "plateau_dialer_steps_total{step=\"refused\",result=\"ok\"} 1"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_no_token_is_401),
        cmocka_unit_test (test_the_queue_keeps_what_a_dial_needs_and_not_who_the_person_is),
        cmocka_unit_test (test_why_shows_the_lead_queued_with_its_next_attempt_in_paris_time),
        cmocka_unit_test (test_a_number_is_read_by_readers_only),
        cmocka_unit_test (test_queue_shows_the_lead_at_its_head),
        cmocka_unit_test (test_plateauctl_why_and_queue),
        cmocka_unit_test (test_a_reader_may_not_set_an_agent_state),
        cmocka_unit_test (test_agent_time_and_wait_are_counted_once),
        cmocka_unit_test (test_the_agents_index_follows_their_states_and_is_rebuilt_on_takeover),
        cmocka_unit_test (test_a_paused_campaign_claims_nothing_until_resumed),
        cmocka_unit_test (test_a_manual_dial_goes_through_the_same_check),
        cmocka_unit_test (test_a_disposition_for_an_unknown_call_is_404),
        cmocka_unit_test (test_a_body_over_16_kib_is_413),
        cmocka_unit_test (test_unknown_members_are_refused_by_name),
        cmocka_unit_test (test_broken_json_is_400_with_its_place),
        cmocka_unit_test (test_a_disposition_waits_for_the_outcome_and_applies_once),
        cmocka_unit_test (test_an_operator_defines_a_campaign_over_the_api),
        cmocka_unit_test (test_a_broken_promise_queues_its_finished_lead_again),
        cmocka_unit_test (test_a_promise_holds_the_other_leads_of_its_debt_until_decided),
        cmocka_unit_test (test_a_debt_s_calls_to_its_other_numbers_reach_the_check),
        cmocka_unit_test (test_a_promise_opened_elsewhere_holds_its_debt),
        cmocka_unit_test (test_a_call_telephony_never_ended_frees_its_line),
        cmocka_unit_test (test_a_bridged_call_leaves_the_bridged_calls_when_it_ends),
    };
    /* Its own fixture: the lead's only attempt is spent on a refused check. */
    const struct CMUnitTest refused[] = {
        cmocka_unit_test (test_a_check_refused_for_good_frees_its_line_at_once_and_requeues_the_lead_later),
    };
    int failed = cmocka_run_group_tests (tests, s_setup, s_teardown);
    return failed + cmocka_run_group_tests (refused, s_setup, s_teardown);
}
