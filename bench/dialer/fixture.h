/*  fixture.h — the dialer as a process for its benchmarks: a private redis-server, the built
 *  plateau-dialer (and plateau-scrub when the bench dials), and the bench itself on the dialer's
 *  bus door as scrub (LeadCleared) and as telsim (AgentState), with bus servers standing in for
 *  telephony (identity telsim: counts every CallRequest) and, optionally, the audit (acks all).
 *
 *  bench/e2e adds the real plateau-audit (instead of the stand-in) and plateau-intake in front of
 *  scrub (fx_opts_t.intake, .real_audit): the whole production chain from HTTP to the due queue.
 *
 *  Every process runs on one standing virtual clock: Monday 2026-12-07 15:00 UTC, 10:00 in New
 *  York, inside us-dc's 08:00-21:00 (or on fx_opts_t.clock, e.g. the same instant running at
 *  real speed). The campaign is us-dc (US debt collection), which needs no
 *  registry copy and no consent: scrub ALLOWs a first call to a New York number with no list
 *  loaded. Leads are New York numbers (+1 212), one a lead, with a realistic Lead as the intake
 *  stores it (name, address, ZIP, debt, regions, trace id).
 */
#ifndef BENCH_DIALER_FIXTURE_H
#define BENCH_DIALER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "pl_test.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/redis.h"

#define FX_T0 1796655600000LL           /* Monday 2026-12-07 15:00 UTC, 10:00 in New York */
#define FX_CAMPAIGN "us-bench"
#define FX_CRM_TOKEN "bench-crm-0123456789abcdef"     /* source crm: the intake's API */

typedef struct {
    bool scrub;                       /* start plateau-scrub (the dial-time check) */
    bool audit;                       /* an audit stand-in acking every event */
    int batch;                        /* PLATEAU_DIALER_BATCH */
    int pace_ms;                      /* PLATEAU_DIALER_PACE_MS */
    bool real_audit;                  /* with audit: the built plateau-audit, not the stand-in */
    bool intake;                      /* start plateau-intake (HTTP API) sending to plateau-scrub */
    const char *clock;                /* PLATEAU_CLOCK of every process; NULL: standing at FX_T0 */
} fx_opts_t;

typedef struct {
    fx_opts_t o;
    pl_test_redis_t *srv;
    char *dir;
    char dialer_bus[64], scrub_bus[64], tel_bus[64], audit_bus[64];
    char intake_bus[64];
    int dialer_ops, scrub_ops, intake_ops, intake_http, audit_ops;
    pid_t dialer, scrub, intake, audit_pid;
    pl_bus_server_t *tel, *audit;     /* stand-ins the bench serves */
    pl_bus_server_t *scrub_stub;      /* when plateau-scrub is not started: acks every check */
    pl_clock_t *clock;
    pl_redis_t *redis;
    pl_bus_client_t *as_scrub, *as_telsim;
    /* CallRequests received by the telephony stand-in */
    uint64_t calls, call_dups;
    double first_call, last_call;     /* monotonic seconds */
    uint8_t *called;                  /* one byte per lead index */
    size_t n_leads;
} fx_t;

/* Starts Redis, plateau-audit (o->real_audit), plateau-scrub (o->scrub), plateau-dialer and
 * plateau-intake (o->intake), and connects the bench's clients.
 * 0, or -1 with the reason on stderr (and the logs' tails). n_leads sizes the call table. */
int fx_start (fx_t *f, const fx_opts_t *o, size_t n_leads);
void fx_stop (fx_t *f);

/* One pass over every socket the bench serves, waiting at most wait_ms for the first. */
void fx_pump (fx_t *f, int wait_ms);

/* Queues leads [from, to) as scrub would (LeadCleared, one ALLOW verdict each), in bus batches
 * of `batch`, and waits until the dialer acknowledged them all. 0, or -1 (refused, or no
 * answer within 60 s of the last progress). */
int fx_queue_leads (fx_t *f, size_t from, size_t to, size_t batch);

/* Announces agents [from, to) READY on the campaign, as telsim would. Does not wait. */
int fx_agents_ready (fx_t *f, size_t from, size_t to, size_t batch);

/* Waits until the bench's two clients have nothing in flight (or timeout_ms). */
bool fx_drain (fx_t *f, int timeout_ms);

/* The E.164 number and lead id of lead i. */
void fx_number (size_t i, char out[24]);
void fx_lead_id (size_t i, char out[40]);

/* The packed size of lead i's Lead message (as the dialer stores it in `pb`). */
size_t fx_lead_size (size_t i);

/* A metric's value from a service's /metrics ("name{labels}" prefix match, summed); -1 when
 * unreadable. */
double fx_metric (int ops_port, const char *prefix);
/* Prints every line of a service's /metrics starting with prefix, indented. */
void fx_print_metrics (int ops_port, const char *prefix);

/* A field of INFO <section> as a number; -1 when absent. */
double fx_info (redisContext *c, const char *section, const char *field);

/* Redis's CPU seconds so far (user + system, from INFO cpu). */
double fx_redis_cpu (redisContext *c);

/* An integer reply of a command (hiredis format), or -1. */
long long fx_int (redisContext *c, const char *fmt, ...);

double fx_now (void);
void fx_loadavg (const char *when);
#endif
