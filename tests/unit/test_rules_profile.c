/*  test_rules_profile.c — the shipped jurisdiction profiles, and profile validation.
 *
 *  Every rule of the calling-rules reference marked for France, the US and the UK must exist as
 *  data with its id and a legal source; every malformed profile must be refused with the file,
 *  line and key at fault.
 */
#include "test_rules_common.h"

#include <sys/stat.h>
#include <unistd.h>

static void
test_shipped_profiles_load (void **state)
{
    t_world_t *w = *state;
    static const char *const ids[] = { "fr-cc", "fr-dc", "us-cc", "us-dc", "us-fl", "us-ok",
                                       "us-md", "uk-cc", "uk-dc" };
    assert_int_equal (pl_rules_profiles_count (w->ps), sizeof ids / sizeof ids[0]);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const pl_rules_profile_t *p = pl_rules_profiles_find (w->ps, ids[i]);
        if (!p)
            fail_msg ("profile %s missing", ids[i]);
        assert_string_equal (pl_rules_profile_id (p), ids[i]);
        assert_int_equal (pl_rules_profile_kind (p),
                          strstr (ids[i], "-dc") ? PL_RULES_DC : PL_RULES_CC);
        assert_true (strlen (pl_rules_profile_title (p)) > 0);
    }
    const pl_rules_profile_t *fl = pl_rules_profiles_find (w->ps, "us-fl");
    assert_ptr_equal (pl_rules_profile_base (fl), pl_rules_profiles_find (w->ps, "us-cc"));
    assert_int_equal (pl_rules_profile_region_count (fl), 1);
    assert_string_equal (pl_rules_profile_region (fl, 0), "US-FL");
    assert_null (pl_rules_profile_base (pl_rules_profiles_find (w->ps, "fr-cc")));
    assert_string_equal (pl_rules_profile_jurisdiction (pl_rules_profiles_find (w->ps, "uk-dc")),
                         "GB");
}

/* Acceptance: every id of the reference for France, the US and the UK, as data with a source. */
static void
test_every_reference_rule_exists_with_its_source (void **state)
{
    t_world_t *w = *state;
    static const struct {
        const char *id, *profile, *source_has;
        bool per_call;
    } rules[] = {
        { "fr.hours", "fr-cc", "D223-9", true },
        { "fr.days", "fr-cc", "D223-9", true },
        { "fr.freq", "fr-cc", "D223-9", true },
        { "fr.refusal", "fr-cc", "D223-9", true },
        { "fr.consent", "fr-cc", "L223-1", true },
        { "fr.contract-exempt", "fr-cc", "L223-1", true },
        { "fr.bloctel", "fr-cc", "R223-6", true },
        { "fr.cli", "fr-cc", "2022-1583", true },
        { "fr.sector-ban", "fr-cc", "2025-594", true },
        { "fr.dc-reference", "fr-dc", "R124-4", true },
        { "fr.dc-payments", "fr-dc", "R124-5", false },
        { "fr.dc-hours", "fr-dc", "222-16", true },
        { "us.hours", "us-cc", "310.4(c)", true },
        { "us.hours", "us-dc", "1692c(a)(1)", true },
        { "us.dnc-national", "us-cc", "310.4(b)(3)", true },
        { "us.dnc-internal", "us-cc", "64.1200(d)", true },
        { "us.ebr", "us-cc", "310.2(q)", true },
        { "us.revoke", "us-cc", "64.1200(a)(10)", true },
        { "us.revoke", "us-dc", "64.1200(a)(10)", true },
        { "us.abandon", "us-cc", "310.4(b)(4)", false },
        { "us.wireless-consent", "us-cc", "64.1200(a)(2)", true },
        { "us.reassigned", "us-cc", "64.1200(m)", true },
        { "us.reassigned", "us-dc", "64.1200(m)", true },
        { "us.regf-7in7", "us-dc", "1006.14(b)(2)", true },
        { "us.fl", "us-fl", "501.616", true },
        { "us.ok", "us-ok", "775C", true },
        { "us.md", "us-md", "14-4502", true },
        { "us.state-holidays", "us-cc", "secondary sources", true },
        { "uk.tps", "uk-cc", "reg. 21", true },
        { "uk.ctps", "uk-cc", "reg. 21, 26", true },
        { "fr.b2b", "fr-cc", "L223-1", true },
        { "us.b2b", "us-cc", "310.6(b)(7)", true },
        { "fr.b2b-hours", "fr-cc", "house policy", true },
        { "us.b2b-hours", "us-cc", "house policy", true },
        { "uk.abandon", "uk-cc", "Ofcom", false },
        { "uk.abandon", "uk-dc", "Ofcom", false },
        { "uk.abandon-retry", "uk-cc", "Ofcom", true },
        { "uk.abandon-retry", "uk-dc", "Ofcom", true },
        { "uk.cli", "uk-cc", "C6", true },
        { "uk.cli", "uk-dc", "C6", true },
        { "uk.dc", "uk-dc", "CONC 7.9", true },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const pl_rules_profile_t *p = pl_rules_profiles_find (w->ps, rules[i].profile);
        const pl_rules_rule_t *r = pl_rules_profile_rule (p, rules[i].id);
        if (!r)
            fail_msg ("%s: rule %s missing", rules[i].profile, rules[i].id);
        if (!strstr (pl_rules_rule_source (r), rules[i].source_has))
            fail_msg ("%s: source '%s' lacks '%s'", rules[i].id, pl_rules_rule_source (r),
                      rules[i].source_has);
        assert_true (strlen (pl_rules_rule_summary (r)) > 10);
        assert_int_equal (pl_rules_rule_per_call (r), rules[i].per_call);
    }
    /* Unconfirmed sources are flagged as such. */
    assert_true (pl_rules_rule_unconfirmed (
        pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "fr-dc"), "fr.dc-hours")));
    assert_true (pl_rules_rule_unconfirmed (
        pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "us-cc"), "us.state-holidays")));
    assert_true (pl_rules_rule_unconfirmed (
        pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "uk-cc"), "uk.tps")));
    assert_false (pl_rules_rule_unconfirmed (
        pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "fr-cc"), "fr.hours")));
}

static void
test_values_are_exposed_from_the_same_data (void **state)
{
    t_world_t *w = *state;
    const pl_rules_profile_t *uscc = pl_rules_profiles_find (w->ps, "us-cc");
    pl_rules_abandon_t a;
    assert_int_equal (pl_rules_profile_abandon (uscc, &a), 0);
    assert_string_equal (a.rule, "us.abandon");
    assert_int_equal (a.max_rate_ppm, 30000);
    assert_int_equal (a.period_ms, 30 * T_DAY);
    assert_false (a.calendar_day);
    assert_int_equal (a.agent_within_ms, 2000);
    assert_int_equal (a.ring_min_ms, 15000);
    assert_true (a.message_required);
    /* An overlay reads its base's budget. */
    assert_int_equal (pl_rules_profile_abandon (pl_rules_profiles_find (w->ps, "us-fl"), &a), 0);
    assert_string_equal (a.rule, "us.abandon");
    assert_int_equal (pl_rules_profile_abandon (pl_rules_profiles_find (w->ps, "uk-dc"), &a), 0);
    assert_string_equal (a.rule, "uk.abandon");
    assert_true (a.calendar_day);
    assert_int_equal (a.period_ms, 0);
    assert_int_equal (pl_rules_profile_abandon (pl_rules_profiles_find (w->ps, "fr-cc"), &a),
                      PL_ENOTFOUND);

    const pl_rules_rule_t *r = pl_rules_profile_rule (uscc, "us.dnc-internal");
    assert_string_equal (pl_rules_rule_param (r, "honour-within"), "10bd");
    assert_string_equal (pl_rules_rule_param (r, "retain"), "5y");
    r = pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "fr-dc"), "fr.dc-payments");
    assert_string_equal (pl_rules_rule_param (r, "report"), "every-payment");
    r = pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "fr-cc"), "fr.freq");
    assert_string_equal (pl_rules_rule_param (r, "cap"), "4 per 30d by tenant");
    size_t n = pl_rules_rule_param_count (r);
    assert_true (n >= 3);
    const char *k, *v;
    pl_rules_rule_param_at (r, n - 1, &k, &v);
    assert_string_equal (k, "cap");
    assert_null (pl_rules_rule_param (r, "nope"));
}

typedef struct {
    const char *text;
    int line;
    const char *key;
    const char *msg;
} s_bad_t;

#define HDR "[profile]\nid = t\njurisdiction = FR\nkind = CC\n"
#define RULE HDR "[rule fr.x]\nsource = test\n"

static void
test_malformed_profiles_are_refused_with_file_line_and_key (void **state)
{
    t_world_t *w = *state;
    static const s_bad_t bad[] = {
        { "[profile]\nid = t\nkind = CC\n", 1, "jurisdiction", "needs a jurisdiction" },
        { "[profile]\njurisdiction = FR\nkind = CC\n[rule fr.x]\nsource = s\nhours = 10:00-11:00\n",
          1, "id", "needs an id" },
        { HDR "[rule fr.x]\nhours = 10:00-11:00\n", 5, "source", "legal source" },
        { "[profile]\nid = t\njurisdiction = FR\nkind = XX\n", 4, "kind", "expected CC" },
        { "[profile]\nid = t\ncolour = blue\n", 3, "colour", "unknown key in [profile]" },
        { RULE "hourz = 10:00-12:00\n", 7, "hourz", "unknown key" },
        { RULE "hours = 25:00-26:00\n", 7, "hours", "bad window" },
        { RULE "hours = 10:00\n", 7, "hours", "bad window" },
        { RULE "hours = 12:00-10:00\n", 7, "hours", "bad window" },
        { RULE "hours = 10:00-13:00 12:00-14:00\n", 7, "hours", "overlap" },
        { RULE "hours = 10:00-11:00\nhours = 12:00-13:00\n", 8, "hours", "given twice" },
        { RULE "days = mon-funday\n", 7, "days", "bad days" },
        { RULE "days = mon-fri\nhours.sat = 10:00-12:00\n", 8, "hours.sat", "excludes" },
        { RULE "holidays = atlantis\n", 7, "holidays", "no holiday calendar 'atlantis'" },
        { RULE "cap = 0 per 30d\n", 7, "cap", "expected" },
        { RULE "cap = 4 per 30x\n", 7, "cap", "expected" },
        { RULE "cap = 4 per 30d by planet\n", 7, "cap", "bad 'by planet'" },
        { RULE "cap = 4 per 30d of lunches\n", 7, "cap", "bad 'of lunches'" },
        { RULE "after = lunch 2d\n", 7, "after", "expected" },
        { RULE "after = refusal soon\n", 7, "after", "bad duration" },
        { RULE "consent = maybe\n", 7, "consent", "expected required" },
        { RULE "max-age = 30d\n", 7, "max-age", "needs a 'list'" },
        { RULE "list = US_DNC\n", 7, "list", "bad name" },
        { RULE "list = tps\nmax-age = 1 month\n", 8, "max-age", "bad duration" },
        { RULE "list = tps\nrequired = perhaps\n", 8, "required", "yes or no" },
        { RULE "cli-allow = 33162\n", 7, "cli-allow", "bad prefix" },
        { RULE "cli = maybe\n", 7, "cli", "expected valid" },
        { RULE "when = mobile+teleport\nhours = 10:00-11:00\n", 7, "when",
          "unknown condition 'teleport'" },
        { RULE "from = 2026-02-30\nhours = 10:00-11:00\n", 7, "from", "bad date" },
        { RULE "from = 2026-05-01\nuntil = 2026-04-01\nhours = 10:00-11:00\n", 8, "until",
          "before from" },
        { RULE "max-rate = 3\n", 7, "max-rate", "bad rate" },
        { RULE "period = fortnight\n", 7, "period", "bad period" },
        { RULE "status = maybe\n", 7, "status", "confirmed or unconfirmed" },
        { RULE "exempt-by = fr.nothing\nhours = 10:00-11:00\n", 0, "exempt-by",
          "not an exemption rule" },
        { RULE "exempt-by = fr.nothing\n", 7, "exempt-by", "only meaningful" },
        { RULE "exemption = friendship\n", 7, "exemption", "expected contract" },
        { RULE "exemption = ebr\npurchase = 18mo\n", 7, "exemption", "needs purchase and inquiry" },
        { RULE "purchase = 18mo\n", 7, "purchase", "needs an 'exemption'" },
        { HDR "[rule Hours]\nsource = s\n", 5, "", "bad rule id" },
        { HDR "[rule campaign.x]\nsource = s\nhours = 10:00-11:00\n", 5, "", "reserved" },
        { RULE "hours = 10:00-11:00\n[rule fr.x]\nsource = s\nhours = 10:00-11:00\n", 8, "",
          "defined twice" },
        { RULE "hours 10:00-11:00\n", 7, "", "expected 'key = value'" },
        { HDR "[rule fr.x\n", 5, "", "without ']'" },
        { "id = t\n[profile]\n", 1, "", "before any [section]" },
        { HDR "[rules fr.x]\n", 5, "", "unknown section" },
        { HDR "[rule fr.x]\nsource = s\n[profile]\nid = u\n", 7, "", "must be the first" },
        { "[profile]\nid = t2\njurisdiction = US\nkind = CC\noverlay-of = us-nowhere\n"
          "regions = US-XX\n",
          1, "overlay-of", "no profile 'us-nowhere'" },
        { "[profile]\nid = t2\njurisdiction = US\nkind = CC\nregions = US-TX\n[rule us.x]\n"
          "source = s\nhours = 09:00-20:00\n",
          5, "regions", "only an overlay" },
        { "[profile]\nid = t2\njurisdiction = US\nkind = CC\noverlay-of = us-cc\n",
          1, "regions", "needs the regions" },
        { "[profile]\nid = t2\njurisdiction = US\nkind = DC\noverlay-of = us-cc\nregions = US-TX\n",
          1, "kind", "kind of its base" },
        { "[profile]\nid = t2\njurisdiction = US\nkind = CC\noverlay-of = us-cc\n"
          "regions = US-TX\n[rule us.hours]\nsource = s\nhours = 07:00-22:00\n",
          7, "", "cannot redefine its base" },
        { "[profile]\nid = fr-cc\njurisdiction = FR\nkind = CC\n[rule fr.x]\nsource = s\n"
          "hours = 10:00-11:00\n",
          1, "id", "already loaded" },
        { HDR, 1, "", "has no rule" },
        { RULE "callee = business\n", 7, "callee", "only meaningful" },
        { RULE "callee = robots\nhours = 10:00-11:00\n", 7, "callee", "not consumer, business or sole-trader" },
        { RULE "except-sector = office-supplies\nhours = 10:00-11:00\n", 7, "callee", "needs both callee and lifts" },
        { RULE "lifts = fr.y\n", 7, "callee", "needs both callee and lifts" },
        { RULE "callee = consumer\nlifts = fr.y\n", 7, "callee", "not business or sole-trader" },
        { RULE "callee = business\nlifts = fr.nothing\n", 0, "lifts", "not a rule of this profile" },
        { RULE "callee = business\nlifts = fr.x\n", 0, "lifts", "cannot be lifted" },
        { RULE "callee = business\nlifts = fr.y\nexcept-sector = Office!\n", 9, "except-sector",
          "bad sector" },
    };
    size_t before = pl_rules_profiles_count (w->ps);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pl_rules_profiles_load_text (w->ps, "t.profile", bad[i].text);
        const char *err = pl_rules_profiles_errstr (w->ps);
        if (rc != PL_ECONFIG || pl_rules_profiles_errline (w->ps) != bad[i].line
            || strcmp (pl_rules_profiles_errkey (w->ps), bad[i].key) != 0
            || strcmp (pl_rules_profiles_errfile (w->ps), "t.profile") != 0
            || !strstr (err, bad[i].msg))
            fail_msg ("case %zu: rc %d, error \"%s\" (line %d, key '%s'); want line %d, key "
                      "'%s', \"%s\"", i, rc, err, pl_rules_profiles_errline (w->ps),
                      pl_rules_profiles_errkey (w->ps), bad[i].line, bad[i].key, bad[i].msg);
        assert_int_equal (pl_rules_profiles_count (w->ps), before);
    }
    /* The message reads as file:line: key 'k': what. */
    pl_rules_profiles_load_text (w->ps, "t.profile", RULE "hours = 25:00-26:00\n");
    assert_non_null (strstr (pl_rules_profiles_errstr (w->ps), "t.profile:7: key 'hours': bad "));
}

static void
test_a_good_profile_and_overlay_load_from_text (void **state)
{
    t_world_t *w = *state;
    assert_int_equal (pl_rules_profiles_load_text (w->ps, "xx.profile",
                                                   "[profile]\nid = xx-cc\njurisdiction = XX\n"
                                                   "kind = CC\n[rule xx.hours]\nsource = s\n"
                                                   "summary = a test rule for loading\n"
                                                   "hours = 09:00-12:00 # morning only\n"),
                      0);
    assert_int_equal (pl_rules_profiles_load_text (w->ps, "xx-a.profile",
                                                   "[profile]\nid = xx-a\njurisdiction = XX-A\n"
                                                   "kind = CC\noverlay-of = xx-cc\n"
                                                   "regions = XX-A XX-B\n[rule xx.a]\n"
                                                   "source = s\ncap = 1 per 1d\n"),
                      0);
    const pl_rules_profile_t *a = pl_rules_profiles_find (w->ps, "xx-a");
    assert_non_null (a);
    assert_int_equal (pl_rules_profile_region_count (a), 2);
    assert_string_equal (
        pl_rules_rule_param (pl_rules_profile_rule (pl_rules_profiles_find (w->ps, "xx-cc"),
                                                    "xx.hours"), "hours"),
        "09:00-12:00");
}

static void
test_a_directory_loads_all_or_nothing (void **state)
{
    (void) state;
    char dir[512];
    snprintf (dir, sizeof dir, "%s/pl_rules_prof_XXXXXX", t_tmp ());
    assert_non_null (mkdtemp (dir));
    char p1[4200], p2[4200];
    snprintf (p1, sizeof p1, "%s/a.profile", dir);
    snprintf (p2, sizeof p2, "%s/b.profile", dir);
    FILE *f = fopen (p1, "w");
    fputs ("[profile]\nid = a\njurisdiction = FR\nkind = CC\n[rule fr.a]\nsource = s\n"
           "hours = 10:00-11:00\n", f);
    fclose (f);
    f = fopen (p2, "w");
    fputs ("[profile]\nid = b\njurisdiction = FR\nkind = CC\n[rule fr.b]\nsource = s\n"
           "hours = 10:00-11:00\ncap = many\n", f);
    fclose (f);
    pl_rules_tzdb_t *tz = pl_rules_tzdb_new (t_zoneinfo ());
    pl_rules_profiles_t *ps = pl_rules_profiles_new (tz);
    assert_int_equal (pl_rules_profiles_load_dir (ps, dir), PL_ECONFIG);
    assert_string_equal (pl_rules_profiles_errfile (ps), "b.profile");
    assert_int_equal (pl_rules_profiles_errline (ps), 8);
    assert_string_equal (pl_rules_profiles_errkey (ps), "cap");
    assert_int_equal (pl_rules_profiles_count (ps), 0);
    unlink (p2);
    assert_int_equal (pl_rules_profiles_load_dir (ps, dir), 1);
    assert_int_equal (pl_rules_profiles_count (ps), 1);
    assert_int_equal (pl_rules_profiles_load_dir (ps, "/nonexistent/profiles"), PL_ENOTFOUND);
    assert_int_equal (pl_rules_profiles_load_file (ps, "/nonexistent/x.profile"), PL_ENOTFOUND);
    pl_rules_profiles_destroy (&ps);
    pl_rules_profiles_destroy (&ps);
    pl_rules_tzdb_destroy (&tz);
    unlink (p1);
    rmdir (dir);
}

/* A callee rule lifts only while it is in force itself: dated, it stops lifting when it ends
 * (and so would a regional or conditional one outside its regions or conditions). */
static void
test_a_callee_rule_lifts_only_while_in_force (void **state)
{
    (void) state;
    char dir[4096], path[4200];
    snprintf (dir, sizeof dir, "%s/pl_rules_b2b_XXXXXX", t_tmp ());
    assert_non_null (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/t.profile", dir);
    FILE *f = fopen (path, "w");
    fputs ("[profile]\nid = t-b2b\njurisdiction = FR\nkind = CC\n"
           "[rule fr.x]\nsource = s\nhours = 10:00-11:00\n"
           "[rule fr.y]\nsource = s\ncallee = business\nlifts = fr.x\nuntil = 2026-01-31\n", f);
    fclose (f);
    t_world_t w;
    w.tz = pl_rules_tzdb_new (t_zoneinfo ());
    w.ps = pl_rules_profiles_new (w.tz);
    if (pl_rules_profiles_load_file (w.ps, path) < 0)
        fail_msg ("profile: %s", pl_rules_profiles_errstr (w.ps));
    pl_rules_campaign_t *c = t_campaign (&w, "[campaign]\nprofile = t-b2b\ntenant = 1\nid = 10\n"
                                             "subject = 5\ncallees = consumer business\n");
    const pl_rules_tz_t *paris = t_zone (&w, "Europe/Paris");
    t_facts_t t;
    t_facts_init (&t, "+33612345678", PL_RULES_LINE_MOBILE, paris);
    t.f.callee = PL_RULES_CALLEE_BUSINESS;
    pl_rules_decision_t d;
    /* 15 January, 09:00: fr.y in force, fr.x lifted. */
    assert_int_equal (pl_rules_decide (c, &t.f, t_local (paris, 2026, 1, 15, 9, 0, 0), &d), 0);
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    assert_int_equal (d.fired[t_fired (&d, "fr.x", NULL)].why, PL_RULES_WHY_NOT_FOR_CALLEE);
    /* 5 March, 09:00: fr.y has ended, so fr.x binds the business too. */
    assert_int_equal (pl_rules_decide (c, &t.f, t_local (paris, 2026, 3, 5, 9, 0, 0), &d), 0);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_string_equal (t_decisive (&d), "fr.x");
    pl_rules_campaign_destroy (&c);
    t_world_close (&w);
    unlink (path);
    rmdir (dir);
}

static int
s_setup (void **state)
{
    static t_world_t w;
    t_world_open (&w);
    *state = &w;
    return 0;
}

static int
s_teardown (void **state)
{
    t_world_close (*state);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_shipped_profiles_load),
        cmocka_unit_test (test_every_reference_rule_exists_with_its_source),
        cmocka_unit_test (test_values_are_exposed_from_the_same_data),
        cmocka_unit_test (test_malformed_profiles_are_refused_with_file_line_and_key),
        cmocka_unit_test (test_a_good_profile_and_overlay_load_from_text),
        cmocka_unit_test (test_a_directory_loads_all_or_nothing),
        cmocka_unit_test (test_a_callee_rule_lifts_only_while_in_force),
    };
    return cmocka_run_group_tests_name ("rules_profile", tests, s_setup, s_teardown);
}
