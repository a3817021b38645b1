/*  redis.h — one Redis connection with timeouts, reconnect, pipelining and scripts.
 *
 *  Built from PLATEAU_REDIS_URL: redis://[:password@]host:port/db, unix:///path[?db=N], or
 *  with Redis Sentinel redis+sentinel://[:password@]host[:port][,host[:port]…]/<master>[/db]
 *  (up to 16 sentinels, port 26379 by default; the password is the data nodes', the sentinels
 *  are asked without AUTH). The connection is made lazily and remade after any I/O error, with
 *  exponential backoff (100 ms doubling to 5 s) so that a Redis outage does not turn into a
 *  reconnect storm; while backing off, calls fail at once with PL_EREDIS. pl_redis_ok() says
 *  whether the last exchange succeeded (readiness probes read it from another thread).
 *
 *  Sentinel: every (re)connection asks the sentinels in turn (the last one that answered first)
 *  for SENTINEL get-master-addr-by-name, connects to that address and uses it only if ROLE says
 *  master (a sentinel may lag behind a failover). An error reply READONLY, MASTERDOWN or LOADING
 *  reaches the caller as usual and also drops the connection once no reply is pending, so the
 *  next call (after the backoff) finds the master again: a failover costs the calls made until
 *  the sentinels have promoted a replica, never a new pl_redis_t.
 *
 *  Durability: Redis replication is asynchronous, so a failover loses the writes the old master
 *  acknowledged and had not yet sent to the promoted replica. pl_redis_wait (called by
 *  pl_inbox_recv/pl_inbox_apply after every step) sends WAIT N timeout when N > 0 and fails
 *  unless N replicas have the writes, so that nothing is acknowledged before it is on N+1 nodes.
 *
 *  Cluster: redis+cluster://[:password@]host:port[,host:port…] names seeds (any of the
 *  cluster's nodes). The slot map is read with CLUSTER SLOTS at the first connection; every
 *  command goes to the master of its key's slot (keyless ones to any master, SCRIPT LOAD to
 *  every master, SCAN across all masters with a cursor "<node>:<cursor>", KEYS, DBSIZE and
 *  FLUSHALL/FLUSHDB to each master, answers merged), one connection per
 *  master. Pipelines may span masters: replies come back in the order of the calls. MOVED
 *  updates the map (read again whole once the pipeline is idle) and resends to the node named;
 *  ASK sends ASKING and the command to the importing node; TRYAGAIN waits 20 ms; at most 8
 *  redirections per command. Any connection error drops every connection and the map.
 *
 *  Not thread-safe: one pl_redis_t per thread. Keys carry hash tags (pl:{tag}:…) so that each
 *  atomic step stays in one slot: a script whose keys are in two slots is refused in every mode
 *  before it is sent (errstr "CROSSSLOT…"), so a single Redis catches what a cluster would.
 *
 *  Replies are pl_reply_t, read with the pl_reply_* accessors: a view of the client library's
 *  own reply, nothing copied, so that callers do not depend on which client the kit uses.
 */
#ifndef PL_REDIS_H
#define PL_REDIS_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pl_redis pl_redis_t;
typedef struct pl_redis_script pl_redis_script_t;
typedef struct pl_reply pl_reply_t;            /* opaque: a reply, read with pl_reply_* */

typedef enum {
    PL_REPLY_STRING = 1,    /* bulk string: pl_reply_str */
    PL_REPLY_ARRAY = 2,     /* pl_reply_len elements, each a pl_reply_element */
    PL_REPLY_INTEGER = 3,   /* pl_reply_int */
    PL_REPLY_NIL = 4,       /* a missing key or field */
    PL_REPLY_STATUS = 5,    /* "OK", "PONG": pl_reply_str */
    PL_REPLY_ERROR = 6      /* a Redis error ("WRONGTYPE …", "NOSCRIPT …"): pl_reply_str */
} pl_reply_type_t;

/* Checks a URL; on failure writes why into err. 0 or PL_EINVAL. */
int pl_redis_url_check (const char *url, char *err, size_t err_size);
/* The cluster slot (0-16383) of a key: the CRC16 of its hash tag ({…}, when not empty), else of
 * the whole key. Keys of one atomic step share a tag, hence a slot. */
int pl_redis_key_slot (const char *key, size_t len);

/* A connection for url (not yet connected). NULL when the URL is invalid. timeout_ms bounds
 * connect and every command. */
pl_redis_t *pl_redis_new (const char *url, int timeout_ms);
void pl_redis_destroy (pl_redis_t **self_p);

/* WAIT after acknowledged steps (pl_redis_wait): replicas 0 turns it off (the default);
 * timeout_ms <= 0 takes 1000. set_default_wait sets what later pl_redis_new calls take, for
 * every connection of the process (pl_service_new sets it from PLATEAU_REDIS_WAIT_REPLICAS and
 * PLATEAU_REDIS_WAIT_TIMEOUT, before any thread exists). */
void pl_redis_set_default_wait (int replicas, int timeout_ms);
void pl_redis_set_wait (pl_redis_t *self, int replicas, int timeout_ms);
/* When WAIT is on: WAIT replicas timeout_ms; 0 when that many replicas acknowledged every
 * write of this connection so far, PL_EREDIS otherwise (pl_redis_errstr says how many did).
 * 0 at once when off. No reply may be pending. */
int pl_redis_wait (pl_redis_t *self);

/* Connects now if not connected (respecting the backoff). 0 or PL_EREDIS. */
int pl_redis_connect (pl_redis_t *self);
/* PING; 0 or PL_EREDIS. */
int pl_redis_ping (pl_redis_t *self);
/* true while the last exchange with Redis succeeded. Thread-safe. */
bool pl_redis_ok (const pl_redis_t *self);
/* Counts successful (re)connections: scripts are reloaded when it changes. */
uint64_t pl_redis_generation (const pl_redis_t *self);
const char *pl_redis_errstr (const pl_redis_t *self);

/* One command. Returns a new reply (free with pl_reply_free) or NULL on I/O error. A Redis
 * error reply is returned as a reply of type PL_REPLY_ERROR (the caller decides). */
pl_reply_t *pl_redis_command (pl_redis_t *self, const char *fmt, ...);
pl_reply_t *pl_redis_vcommand (pl_redis_t *self, const char *fmt, va_list ap);     /* for wrappers */
pl_reply_t *pl_redis_commandv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen);
/* One command whose reply is not needed: 0, or PL_EREDIS on I/O error or an error reply (the
 * reason in pl_redis_errstr). */
int pl_redis_exec (pl_redis_t *self, const char *fmt, ...);

/* Pipelining: queue commands, then read one reply per queued command, in order. A failure
 * while reading drops the connection and every pending reply: the caller retries the batch. */
int pl_redis_append (pl_redis_t *self, const char *fmt, ...);
int pl_redis_appendv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen);
/* Writes what is queued to the server now, without reading replies (so that the caller can work
 * while the server runs them). 0 or PL_EREDIS (the connection is dropped). */
int pl_redis_flush (pl_redis_t *self);
/* Sets *reply to a new reply (free with pl_reply_free): 0, or PL_EREDIS with *reply NULL. */
int pl_redis_get_reply (pl_redis_t *self, pl_reply_t **reply);
/* Reads and frees the next n replies, for commands that must all succeed: 0, or PL_EREDIS when
 * one was an error reply (all n are still read) or the connection failed (pl_redis_errstr says
 * which). */
int pl_redis_drain (pl_redis_t *self, int n);
/* Number of commands queued and not yet read. */
int pl_redis_pending (const pl_redis_t *self);

/* A Lua script, loaded with SCRIPT LOAD on first use and again after each reconnection (the
 * server may have restarted empty). */
pl_redis_script_t *pl_redis_script_new (const char *lua);
void pl_redis_script_destroy (pl_redis_script_t **self_p);
/* EVALSHA with keys then args; NOSCRIPT is handled by reloading once. Returns a new reply (free
 * with pl_reply_free) or NULL on I/O error. */
pl_reply_t *pl_redis_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
                           const char **argv, const size_t *argvlen);
/* Pipelined form: loads the script if needed, then queues EVALSHA. */
/* Loads script on this connection now unless it is already (SCRIPT LOAD), so that the calls
 * that follow in a pipeline go by SHA rather than with the body. No reply may be pending
 * (PL_EBUSY). 0, PL_EBUSY, PL_EREDIS. */
int pl_redis_script_ready (pl_redis_t *self, pl_redis_script_t *script);
int pl_redis_append_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
                          const char **argv, const size_t *argvlen);

/* Reading a reply; elements belong to their array and are freed with it. A NULL reply (the
 * command failed: Redis unreachable) reads as an error without text, an empty array, 0, so
 * that a caller that forgot to check degrades instead of crashing during an outage. */
pl_reply_type_t pl_reply_type (const pl_reply_t *reply);
/* The bytes of a string, status or error reply (NUL-terminated; len, if not NULL, gets their
 * number); NULL for any other type. Valid until the reply is freed. */
const char *pl_reply_str (const pl_reply_t *reply, size_t *len);
/* The value of an integer reply; 0 for any other type. */
long long pl_reply_int (const pl_reply_t *reply);
/* The number of elements of an array reply; 0 for any other type. */
size_t pl_reply_len (const pl_reply_t *reply);
/* Element i of an array reply (borrowed from it); NULL when i is out of range. */
pl_reply_t *pl_reply_element (const pl_reply_t *reply, size_t i);
/* Frees *reply_p (a reply returned by the functions above, not an element) and sets it to
 * NULL; safe on NULL. */
void pl_reply_free (pl_reply_t **reply_p);

#endif
