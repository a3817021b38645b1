/*  main.c — plateau-dialer: every call checked at the instant of dialling, paced inside the
 *  legal abandon budget.
 *
 *  Wiring only: reads the configuration and the campaign files (campaign.c), builds the dialer
 *  (dial.c), serves its bus door, takes campaign leases every second, paces the campaigns it
 *  holds every few milliseconds, and voids attempts left unchecked. See README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "dial.h"
#include "plateau/service.h"

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("dialer");
    pl_config_t *cfg = pl_service_config (svc);
    const char *profiles = pl_config_str (cfg, "PLATEAU_RULES_PROFILES_DIR", DIALER_PROFILES_DEFAULT);
    const char *zoneinfo = pl_config_str (cfg, "PLATEAU_ZONEINFO_DIR", NULL);
    const char *dir = pl_config_str (cfg, "PLATEAU_CAMPAIGNS_DIR", NULL);
    int pace_ms = (int) pl_config_int (cfg, "PLATEAU_DIALER_PACE_MS", 20, 1, 10000);
    int batch = (int) pl_config_int (cfg, "PLATEAU_DIALER_BATCH", 200, 1, 5000);
    double amd_fp = (double) pl_config_int (cfg, "PLATEAU_DIALER_AMD_FALSE_POSITIVE_PERMILLE", 20, 0, 1000) / 1000.0;
    char err[512] = "";
    dialer_campaigns_t *campaigns = dialer_campaigns_new (profiles, zoneinfo, dir, err, sizeof err);
    if (!campaigns)
        pl_config_fail (cfg, dir && strstr (err, dir) ? "PLATEAU_CAMPAIGNS_DIR" : "PLATEAU_RULES_PROFILES_DIR",
                        "readable jurisdiction profiles and campaign files", err);
    /* Checks go to scrub and calls to telephony; both are needed to dial at all. */
    pl_bus_client_t *scrub = pl_service_connect (svc, "scrub", true);
    pl_bus_client_t *telephony = pl_service_connect (svc, "telephony", true);
    pl_bus_client_t *audit = pl_service_connect (svc, "audit", false);
    pl_bus_client_t *promise = pl_service_connect (svc, "promise", false);
    pl_service_config_done (svc);
    (void) telephony;
    (void) promise;
    dialer_opts_t o = {
        .redis = pl_service_redis (svc),
        .clock = pl_service_clock (svc),
        .service = pl_service_name (svc),
        .replica = pl_service_replica (svc),
        .campaigns = campaigns,
        .audit = audit != NULL,
        .metrics = pl_service_metrics (svc),
        .log = pl_service_log (svc),
        .amd_false_positive = amd_fp,
        .batch = batch,
        .scrub_client = scrub,
    };
    dialer_t *dialer = dialer_new (&o);
    /* Cleared leads from scrub, answers to its checks; calls, agents and dispositions from
     * telephony (a real adapter or telsim). */
    const char *types[] = { "LeadCleared=scrub", "LeadSuppressed=scrub", "ScrubVerdict=scrub",
                            "DialCheckResult=scrub", "CallProgress=telephony,telsim",
                            "CallOutcome=telephony,telsim", "AgentState=telephony,telsim",
                            "Disposition=telephony,telsim", NULL };
    if (!dialer || !pl_service_serve (svc, types, dialer_handle, dialer))
        return 2;
    char n[16];
    snprintf (n, sizeof n, "%zu", dialer_campaigns_count (campaigns));
    pl_log_info (pl_service_log (svc), NULL, "campaigns loaded", "count", n);
    dialer_lease_tick (pl_service_loop (svc), dialer);
    pl_loop_add_timer (pl_service_loop (svc), 1000, dialer_lease_tick, dialer);
    pl_loop_add_timer (pl_service_loop (svc), pace_ms, dialer_pace_tick, dialer);
    pl_loop_add_timer (pl_service_loop (svc), 5000, dialer_recover_tick, dialer);
    int rc = pl_service_run (svc);
    dialer_destroy (&dialer);
    dialer_campaigns_destroy (&campaigns);
    pl_service_destroy (&svc);
    return rc;
}
