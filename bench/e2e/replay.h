/*  replay.h — bench_e2e's baseline: the Redis commands the services really sent, captured with
 *  MONITOR over a small run (those inside scripts included, as Redis runs them), replayed raw,
 *  without the scripts and the bus, pipelined on one connection.
 *
 *  MONITOR shows every command with its arguments, so the replay has the same keys, fields and
 *  value sizes as the services' own; scripts (EVAL, EVALSHA, FCALL) are left out and their inner
 *  commands kept, connection and server commands (INFO, CONFIG, CLIENT, PING, …) and blocking
 *  ones are left out, as are the bench's own (its connection's port). Each replay round writes
 *  a fresh copy of the sampled keys (every key prefixed "bl<round>:"), so that writes create
 *  what they created and reads find what the round wrote before them.
 */
#ifndef BENCH_E2E_REPLAY_H
#define BENCH_E2E_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

typedef struct rp_sample rp_sample_t;

/* Connects to Redis at port, sends MONITOR and captures commands on a thread until
 * rp_monitor_stop; commands from the client at 127.0.0.1:skip_port are not kept. NULL on error. */
rp_sample_t *rp_monitor_start (int port, int skip_port);
void rp_monitor_stop (rp_sample_t *s);
void rp_destroy (rp_sample_t **s_p);

/* The command's name as INFO commandstats spells it: lower case, "xgroup|create" for a
 * container command. */
void rp_stat_name (const char *argv0, const char *argv1, char *out, size_t size);
/* Whether a command (stat name) is part of the baseline: not a script, transaction, connection,
 * server or blocking command. */
bool rp_replayable (const char *stat_name);

/* Commands captured (kept for the replay), and of them those named stat_name. */
size_t rp_count (const rp_sample_t *s, const char *stat_name);
size_t rp_total (const rp_sample_t *s);
/* The distinct names in the sample: i from 0 until NULL. */
const char *rp_name (const rp_sample_t *s, size_t i);

/* Finds each command's keys (COMMAND GETKEYS, pipelined). 0, or -1. */
int rp_prepare (rp_sample_t *s, redisContext *c);

typedef struct {
    size_t commands, errors;
    double seconds;
    char first_error[200];         /* room for the command and the reply, both cut */
} rp_result_t;

/* Replays the sample `rounds` times on c, `chunk` commands a pipeline. Each command of name n is
 * sent weight(n) times on average (the sustained run's count per lead over the sample's; 0 drops
 * it): weight_of returns it. */
rp_result_t rp_replay (rp_sample_t *s, redisContext *c, size_t rounds, size_t chunk,
                       double (*weight_of) (void *arg, const char *stat_name), void *arg);

#endif
