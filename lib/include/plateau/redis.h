/*  redis.h — one Redis connection with timeouts, reconnect, pipelining and scripts.
 *
 *  Built from PLATEAU_REDIS_URL: redis://[:password@]host:port/db or unix:///path[?db=N].
 *  The connection is made lazily and remade after any I/O error, with exponential backoff
 *  (100 ms doubling to 5 s) so that a Redis outage does not turn into a reconnect storm; while
 *  backing off, calls fail at once with PL_EREDIS. pl_redis_ok() says whether the last exchange
 *  succeeded (readiness probes read it from another thread).
 *
 *  Not thread-safe: one pl_redis_t per thread. Keys carry hash tags (pl:{tag}:…) so that the
 *  same code runs on Redis Cluster.
 */
#ifndef PL_REDIS_H
#define PL_REDIS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

typedef struct pl_redis pl_redis_t;
typedef struct pl_redis_script pl_redis_script_t;

/* Checks a URL; on failure writes why into err. 0 or PL_EINVAL. */
int pl_redis_url_check (const char *url, char *err, size_t err_size);

/* A connection for url (not yet connected). NULL when the URL is invalid. timeout_ms bounds
 * connect and every command. */
pl_redis_t *pl_redis_new (const char *url, int timeout_ms);
void pl_redis_destroy (pl_redis_t **self_p);

/* Connects now if not connected (respecting the backoff). 0 or PL_EREDIS. */
int pl_redis_connect (pl_redis_t *self);
/* PING; 0 or PL_EREDIS. */
int pl_redis_ping (pl_redis_t *self);
/* true while the last exchange with Redis succeeded. Thread-safe. */
bool pl_redis_ok (const pl_redis_t *self);
/* Counts successful (re)connections: scripts are reloaded when it changes. */
uint64_t pl_redis_generation (const pl_redis_t *self);
const char *pl_redis_errstr (const pl_redis_t *self);

/* One command. Returns the reply (free with freeReplyObject) or NULL on I/O error. A Redis
 * error reply is returned as a reply of type REDIS_REPLY_ERROR (the caller decides). */
redisReply *pl_redis_command (pl_redis_t *self, const char *fmt, ...);
redisReply *pl_redis_commandv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen);

/* Pipelining: queue commands, then read one reply per queued command, in order. A failure
 * while reading drops the connection and every pending reply: the caller retries the batch. */
int pl_redis_append (pl_redis_t *self, const char *fmt, ...);
int pl_redis_appendv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen);
int pl_redis_get_reply (pl_redis_t *self, redisReply **reply);
/* Number of commands queued and not yet read. */
int pl_redis_pending (const pl_redis_t *self);

/* A Lua script, loaded with SCRIPT LOAD on first use and again after each reconnection (the
 * server may have restarted empty). */
pl_redis_script_t *pl_redis_script_new (const char *lua);
void pl_redis_script_destroy (pl_redis_script_t **self_p);
/* EVALSHA with keys then args; NOSCRIPT is handled by reloading once. */
redisReply *pl_redis_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
                           const char **argv, const size_t *argvlen);
/* Pipelined form: loads the script if needed, then queues EVALSHA. */
int pl_redis_append_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
                          const char **argv, const size_t *argvlen);

#endif
