/*  test_campaign_registry.c — a campaign defined over the API reaches every service's campaigns
 *  through the registry in a real Redis: scrub's (which judges under it, for its tenant), the
 *  intake's (which names its tenant and kind in the audit) and the dialer's. A new definition
 *  replaces the old one; a file's campaign is never replaced; a definition that cannot be taken
 *  is refused on its own, the others still are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "campaign.h"
#include "pl_test.h"
#include "plateau/campaign_registry.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/log.h"
#include "plateau/redis.h"

/* Scrub's and the intake's campaigns.h share a name: each is reached by its path. */
#include "../../services/intake/campaigns.h"
#include "../../services/scrub/campaigns.h"

#define FR_TEXT(tenant) "[campaign]\nprofile = fr-cc\ntenant = " tenant "\ncli = +33162000001\n\n[dialer]\nmode = progressive\n"

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    pl_inbox_t *inbox;
    pl_log_t *log;
    char *dir;
    scrub_campaigns_t *scrub;
    intake_campaigns_t *intake;
    dialer_campaigns_t *dialer;
} fx_t;

/* PUT's effect, as the dialer runs it: the definition into the registry, in one step. */
static void
s_put (fx_t *f, const char *name, const char *text)
{
    pl_inbox_tx_t *tx = pl_inbox_tx_new (PL_CAMPAIGN_REGISTRY_TAG, NULL);
    assert_int_equal (pl_campaign_registry_put (tx, name, text), 0);
    int applied = 0;
    assert_int_equal (pl_inbox_apply (f->inbox, &tx, 1, &applied), 0);
    pl_inbox_tx_destroy (&tx);
}

static int
s_dialer_def (const char *name, const char *text, size_t len, void *arg)
{
    (void) len;
    char err[512];
    bool changed;
    dialer_campaigns_define (arg, name, text, &changed, err, sizeof err);
    return 0;
}

static void
s_poll (fx_t *f)
{
    static int64_t dialer_rev;
    assert_int_equal (scrub_campaigns_registry_poll (f->scrub, f->redis, f->log), 0);
    assert_int_equal (intake_campaigns_registry_poll (f->intake, f->redis, f->log), 0);
    assert_int_equal (pl_campaign_registry_poll (f->redis, &dialer_rev, s_dialer_def, f->dialer), 0);
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    *state = f;
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    f->inbox = pl_inbox_new (f->redis, "dialer", 0);
    f->log = pl_log_new ("test", 2);
    f->dir = pl_test_tmpdir ("pl-campreg");
    char path[600], err[512] = "";
    snprintf (path, sizeof path, "%s/fr-file.campaign", f->dir);
    FILE *fp = fopen (path, "w");
    fputs (FR_TEXT ("acme-file"), fp);
    fclose (fp);
    f->scrub = scrub_campaigns_new (SCRUB_PROFILES_DEFAULT, NULL, f->dir, "default", err, sizeof err);
    f->intake = intake_campaigns_new (f->dir, "default", err, sizeof err);
    f->dialer = dialer_campaigns_new (SCRUB_PROFILES_DEFAULT, NULL, f->dir, err, sizeof err);
    if (!f->scrub || !f->intake || !f->dialer) {
        fprintf (stderr, "campaigns: %s\n", err);
        return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    scrub_campaigns_destroy (&f->scrub);
    intake_campaigns_destroy (&f->intake);
    dialer_campaigns_destroy (&f->dialer);
    pl_inbox_destroy (&f->inbox);
    pl_redis_destroy (&f->redis);
    pl_log_destroy (&f->log);
    pl_test_redis_stop (&f->srv);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

static void
test_a_definition_reaches_every_service (void **state)
{
    fx_t *f = *state;
    scrub_campaign_t sc;
    /* Before: scrub judges an unknown campaign under the default profile, for the default tenant. */
    assert_int_equal (scrub_campaigns_find (f->scrub, "fr-api", NULL, "FR", false, &sc), 0);
    assert_string_equal (sc.name, "");
    assert_string_equal (sc.tenant, "default");
    s_put (f, "fr-api", FR_TEXT ("acme-api"));
    s_poll (f);
    assert_int_equal (scrub_campaigns_find (f->scrub, "fr-api", NULL, "FR", false, &sc), 0);
    assert_string_equal (sc.name, "fr-api");
    assert_string_equal (sc.tenant, "acme-api");
    assert_string_equal (sc.profile, "fr-cc");
    assert_true (intake_campaigns_has (f->intake, "fr-api"));
    assert_string_equal (intake_campaigns_tenant (f->intake, "fr-api"), "acme-api");
    assert_int_equal (intake_campaigns_kind (f->intake, "fr-api", true), PLATEAU__V1__CALL_KIND__CANVASSING);
    const dialer_campaign_t *dc = dialer_campaigns_find (f->dialer, "fr-api");
    assert_non_null (dc);
    assert_string_equal (dc->tenant, "acme-api");
    assert_true (dc->from_api);
    uint64_t gen = dialer_campaigns_gen (f->dialer);

    /* Replaced: the new tenant everywhere; what a thread held before stays readable. */
    const char *old_tenant = sc.tenant;
    s_put (f, "fr-api", FR_TEXT ("acme-two"));
    s_poll (f);
    assert_int_equal (scrub_campaigns_find (f->scrub, "fr-api", NULL, "FR", false, &sc), 0);
    assert_string_equal (sc.tenant, "acme-two");
    assert_string_equal (old_tenant, "acme-api");
    assert_string_equal (intake_campaigns_tenant (f->intake, "fr-api"), "acme-two");
    assert_string_equal (dialer_campaigns_find (f->dialer, "fr-api")->tenant, "acme-two");
    assert_string_equal (dc->tenant, "acme-api");
    assert_true (dialer_campaigns_gen (f->dialer) > gen);

    /* Nothing moved: nothing is read again. */
    gen = dialer_campaigns_gen (f->dialer);
    s_poll (f);
    assert_int_equal (dialer_campaigns_gen (f->dialer), gen);
}

static void
test_a_file_campaign_is_never_replaced_and_a_bad_definition_stays_alone (void **state)
{
    fx_t *f = *state;
    s_put (f, "fr-file", FR_TEXT ("mallory"));
    s_put (f, "fr-broken", "[campaign]\nprofile = fr-cc\ntenant = x\n[dialer]\nmode = sideways\n");
    s_put (f, "fr-good", FR_TEXT ("acme-good"));
    s_poll (f);
    scrub_campaign_t sc;
    assert_int_equal (scrub_campaigns_find (f->scrub, "fr-file", NULL, "FR", false, &sc), 0);
    assert_string_equal (sc.tenant, "acme-file");
    assert_string_equal (intake_campaigns_tenant (f->intake, "fr-file"), "acme-file");
    assert_string_equal (dialer_campaigns_find (f->dialer, "fr-file")->tenant, "acme-file");
    assert_false (dialer_campaigns_find (f->dialer, "fr-file")->from_api);
    /* The dialer refuses a bad [dialer] section; the others still take what they read. */
    assert_null (dialer_campaigns_find (f->dialer, "fr-broken"));
    assert_non_null (dialer_campaigns_find (f->dialer, "fr-good"));
    assert_string_equal (intake_campaigns_tenant (f->intake, "fr-good"), "acme-good");
    char err[512] = "";
    assert_int_equal (dialer_campaigns_check (f->dialer, "fr-file", err, sizeof err), PL_EEXIST);
    assert_non_null (strstr (err, "fr-file.campaign"));
    dialer_campaign_t *c = dialer_campaigns_parse (f->dialer, "fr-x", "[campaign]\nprofile = fr-cc\ntenant = t\n\n[dialer]\nring-timeout = 5s\n",
                                                   err, sizeof err);
    assert_null (c);
    assert_non_null (strstr (err, "body:6: key 'ring-timeout'"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_definition_reaches_every_service),
        cmocka_unit_test (test_a_file_campaign_is_never_replaced_and_a_bad_definition_stays_alone),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
