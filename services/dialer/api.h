/*  api.h — the dialer's HTTP API: why a lead waits, a campaign's queue, the agent desktop's
 *  three acts (state, disposition, manual dial), and an operator's pause of a campaign.
 *
 *    GET  /v1/leads/{id}/why[?campaign=C]      why it is called when it is, or never     readers
 *    GET  /v1/numbers/{e164}/why               the same for every lead of a number       readers
 *    GET  /v1/campaigns                        every campaign and its dialer settings    readers
 *    GET  /v1/campaigns/{id}                   one campaign, its settings and definition  readers
 *    PUT  /v1/campaigns/{id}                   define or replace it (text/plain, ≤ 64 KiB) operators
 *    GET  /v1/campaigns/{id}/queue[?limit=N]   depth, pacing, agents, the head (N ≤ 200)  readers
 *    PUT  /v1/agents/{id}/state                an agent's state for its campaigns        agents
 *    POST /v1/calls/{dial_id}/disposition      how a call ended                          agents
 *    POST /v1/leads/{id}/dial                  an agent's manual dial (claim and check)  agents
 *    POST /v1/campaigns/{id}/pause             stop claiming its leads {"reason": …}     operators
 *    POST /v1/campaigns/{id}/resume            claim them again                          operators
 *
 *  readers: PLATEAU_DIALER_READERS and PLATEAU_DIALER_OPERATORS; agents: PLATEAU_DIALER_AGENTS
 *  and PLATEAU_DIALER_OPERATORS. A list left unset names nobody, so that a route is never open
 *  to every token by default. Bodies are JSON objects of at most 16 KiB; unknown members are
 *  refused with the member named.
 *
 *  Each handler thread builds its own dialer_t on its own Redis connection (dial.h's functions
 *  are not thread-safe; its outboxes only name keys, so every thread writes the same ones).
 *  Nothing here decides what a step does: every act goes through dial.h's functions, the very
 *  ones the bus door calls, so a disposition or a dial is the same step whichever door it takes.
 */
#ifndef DIALER_API_H
#define DIALER_API_H
#include "dial.h"
#include "plateau/http.h"

#define DIALER_API_MAX_BODY (16 * 1024)
#define DIALER_API_MAX_QUEUE 200          /* ?limit= of a queue's head */
#define DIALER_API_MAX_NUMBER_LEADS 100   /* leads told per number */

typedef struct {
    dialer_opts_t dialer;         /* copied; each thread takes its own Redis (.redis ignored, and
                                   * .scrub_client: the loop's, never a handler's) */
    const char *redis_url;
    const char *agents;           /* "cti,desk": states, dispositions, manual dials (NULL: nobody) */
    const char *readers;          /* why, queue, campaigns (NULL: nobody) */
    const char *operators;        /* everything (NULL: nobody) */
} dialer_api_opts_t;

typedef struct dialer_api dialer_api_t;

/* A new API over o (strings borrowed: they must outlive it). NULL on no memory. */
dialer_api_t *dialer_api_new (const dialer_api_opts_t *o);
void dialer_api_destroy (dialer_api_t **self_p);
/* Registers the routes above. 0, or PL_EINVAL. */
int dialer_api_routes (dialer_api_t *self, pl_http_t *http);
/* pl_http_options_t.thread_init / thread_fini, with thread_arg the API. */
void *dialer_api_thread_init (void *arg);
void dialer_api_thread_fini (void *ctx, void *arg);

#endif
