/*  bus.h — acknowledged messaging between services over ZeroMQ.
 *
 *  Work travels DEALER → ROUTER. A message is two frames, [type][Envelope]; the receiver answers
 *  each with an Ack (several ids per Ack envelope when a batch completes together) or a Nack
 *  with a code. The sending side (pl_bus_client) keeps every message in its Redis outbox until
 *  acked, resends after a timeout with exponential backoff, moves permanently refused messages to
 *  the outbox's dead letters, and resends everything owed when it restarts. The receiving side
 *  (pl_bus_server) hands messages to a handler in batches, so the handler can apply a whole batch
 *  in one Redis pipeline (see inbox.h) before acknowledging.
 *
 *  Addresses: a client endpoint "tcp://name:port" may name a Kubernetes headless Service that
 *  resolves to several pods: the client connects one socket to every address (ZeroMQ then
 *  balances across them) and re-resolves on a timer, connecting new pods and dropping gone ones.
 *  Unacked messages sent to a pod that went away are resent to the others. An endpoint may also
 *  be a comma-separated list, "tcp://127.0.0.1:5562,tcp://127.0.0.1:5570" (replicas that cannot
 *  share one address, as on one machine); each element may be a name resolving to several
 *  addresses, or ipc://. The client connects to the union of every element's addresses,
 *  re-resolves each on the timer (an element that fails to resolve keeps the addresses it had),
 *  and treats them exactly as the pods of one name: balanced, and resent to when one goes away.
 *
 *  Sockets: ZMTP heartbeats on, bounded linger, ROUTER_MANDATORY on servers (an answer to a
 *  peer that vanished fails loudly; the peer's outbox resends).
 *
 *  Identity and authorisation (CURVE). Every service has an identity: the name of its public key
 *  in the key list, a text file shared by the deployment (a ConfigMap):
 *
 *      # identity   public key (Z85, 40 characters, as `plateauctl keygen` writes it)
 *      intake       rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
 *      audit        Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID
 *
 *  An identity may have several keys (rotation); a key belongs to one identity. A CURVE server
 *  refuses plaintext peers, and its ZAP handler admits only listed keys, naming the peer by the
 *  key's identity: pl_bus_msg_sender() — the sender's proven identity, never a field it chose.
 *  Each server declares which identities may send it which types (pl_bus_server_allow); a type
 *  with no rule is refused FORBIDDEN. Envelopes far outside the receiver's clock are refused
 *  STALE (pl_bus_server_set_window). The key list is read again when it changes (every 2 s at
 *  most), by servers (a removed key is refused from its next connection) and by clients (a
 *  connection whose server key was removed reconnects with one still listed): keys are rotated
 *  and revoked without restarts. While an identity has two keys (a rotation under way, the
 *  newest listed first) its pods hold one or the other: a client keeps a server key per
 *  connection, and a connection whose handshake fails or is dropped before it completes tries
 *  the identity's next key, so both old and new pods are reached. Refusals are
 *  counted by reason (pl_bus_server_count: "refused_handshake", "refused_key",
 *  "refused_forbidden", "refused_stale") and the last one is kept for the log.
 *
 *  A server or client made with no CURVE options speaks plaintext: it authenticates no one and
 *  applies no rule (pl_bus_msg_sender() is NULL). Services run plaintext only when told to
 *  (service.h: PLATEAU_BUS_SECURITY=plaintext), with a warning.
 *
 *  Not thread-safe: a server or client belongs to the thread that polls it.
 */
#ifndef PL_BUS_H
#define PL_BUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/redis.h"

typedef struct {
    int heartbeat_ms;            /* ZMTP heartbeat interval; 0 = 5000 */
    int linger_ms;               /* bounded linger on close; 0 = 1000 */
    int64_t dead_ttl_ms;         /* client: how long dead letters are kept (0: 7 days) */
    /* CURVE: both set, or both NULL for plaintext. The secret key file holds 40 characters of
     * Z85 (`plateauctl keygen`); the own public key is derived from it. */
    const char *curve_secret_key_file;   /* own secret key (server and client) */
    const char *keys_file;               /* the key list (see above) */
    /* Client: the server's identity in the key list (NULL: the client's `peer`). */
    const char *server_identity;
} pl_bus_options_t;

/* Checks that keys_file parses and lists the public key of secret_key_file under `identity`.
 * 0, or PL_EINVAL / PL_EIO with why in err. */
int pl_bus_keys_check (const char *keys_file, const char *secret_key_file, const char *identity,
                       char *err, size_t err_size);
/* Copies the public key (Z85) of `identity` in keys_file to pub (the first, when several).
 * 0, PL_ENOTFOUND, or PL_EINVAL / PL_EIO (why in err). */
int pl_bus_keys_find (const char *keys_file, const char *identity, char pub[41], char *err,
                      size_t err_size);

/* ---- receiving side ---------------------------------------------------------------------- */

typedef struct pl_bus_server pl_bus_server_t;
typedef struct pl_bus_msg pl_bus_msg_t;

/* Called with every message read in one pass (n >= 1). For each message the handler calls
 * exactly one of pl_bus_msg_ack, pl_bus_msg_nack or pl_bus_msg_hold before returning; a message
 * left unanswered is nacked INTERNAL. */
typedef void (pl_bus_batch_fn) (void *arg, pl_bus_msg_t **msgs, size_t n);

/* Binds a ROUTER on endpoint ("tcp://0.0.0.0:5560"). NULL on failure (why in err). */
pl_bus_server_t *pl_bus_server_new (const char *endpoint, const pl_bus_options_t *options,
                                    char *err, size_t err_size);
void pl_bus_server_destroy (pl_bus_server_t **self_p);
/* The handler for every message type; messages without a handler are nacked UNKNOWN_TYPE when
 * `types` is set and the type is not in it (NULL-terminated list of type names). */
void pl_bus_server_set_handler (pl_bus_server_t *self, pl_bus_batch_fn *fn, void *arg,
                                const char *const *types);
/* For zmq_poll. */
void *pl_bus_server_socket (pl_bus_server_t *self);
/* Reads up to max_batch waiting messages without blocking, calls the handler, sends the answers.
 * Returns the number of messages read. */
int pl_bus_server_process (pl_bus_server_t *self, size_t max_batch);
/* Pausing stops reading (while draining, or while the store is full): senders keep their
 * messages in their outboxes. */
void pl_bus_server_pause (pl_bus_server_t *self, bool paused);
bool pl_bus_server_paused (const pl_bus_server_t *self);
/* The endpoint actually bound (useful with "tcp://127.0.0.1:*"). */
const char *pl_bus_server_endpoint (const pl_bus_server_t *self);
/* Counters: "received", "acked", "nacked", "malformed", and refusals (see above). */
uint64_t pl_bus_server_count (const pl_bus_server_t *self, const char *what);
/* The last refusal in one line (who, what, why), "" if none yet. Also collects the failed
 * handshakes the socket's monitor saw (they never wake the socket): call it on a timer. */
void pl_bus_server_last_refusal (pl_bus_server_t *self, char *buf, size_t size);
/* Lets `identities` — names of the key list, comma-separated, or "*" for every listed
 * identity — send messages of `type` (replacing an earlier rule for it; "" lets no one).
 * The type "*" is the rule for types that have none of their own.
 * Ignored by plaintext servers. 0 or PL_ENOMEM. */
int pl_bus_server_allow (pl_bus_server_t *self, const char *type, const char *identities);
/* Refuses (STALE, permanent) envelopes sent more than max_future_ms ahead of clock or more than
 * max_age_ms behind it. clock NULL, or a virtual clock (simulations move time by days while
 * messages wait), turns the check off. Borrows clock. */
void pl_bus_server_set_window (pl_bus_server_t *self, const pl_clock_t *clock,
                               int64_t max_future_ms, int64_t max_age_ms);

/* A received message. The envelope is owned by the message. */
const pl_envelope_t *pl_bus_msg_envelope (const pl_bus_msg_t *msg);
/* The sender's identity, proven by its CURVE key; NULL on a plaintext server. */
const char *pl_bus_msg_sender (const pl_bus_msg_t *msg);
/* true when at_ms (a time inside the message, such as an event's) lies in the server's window. */
bool pl_bus_msg_time_ok (const pl_bus_msg_t *msg, int64_t at_ms);
void pl_bus_msg_ack (pl_bus_msg_t *msg);
/* code: PLATEAU__V1__NACK__CODE__*; retry_after_ms for retryable codes. */
void pl_bus_msg_nack (pl_bus_msg_t *msg, int code, const char *reason, int retry_after_ms);
/* Keeps the message to answer later with pl_bus_server_answer (e.g. after an fsync). */
void pl_bus_msg_hold (pl_bus_msg_t *msg);
/* Answers a held message (ack when code == 0) and destroys it. */
int pl_bus_server_answer (pl_bus_server_t *self, pl_bus_msg_t **msg_p, int code, const char *reason,
                          int retry_after_ms);

/* ---- sending side ------------------------------------------------------------------------ */

typedef struct pl_bus_client pl_bus_client_t;

/* owner: this replica's stable identity (outbox owner); peer: the destination service's name;
 * endpoint: "tcp://host:port" (host may resolve to several pods), ipc://path, or a
 * comma-separated list of these (see Addresses above). Borrows redis and clock.
 * Loads and resends what the outbox still owes. NULL on failure (why in err, naming the bad
 * element of a list). */
pl_bus_client_t *pl_bus_client_new (pl_redis_t *redis, const pl_clock_t *clock, const char *owner,
                                    const char *peer, const char *endpoint,
                                    const pl_bus_options_t *options, char *err, size_t err_size);
void pl_bus_client_destroy (pl_bus_client_t **self_p);

/* Stores envs in the outbox (one Redis step) and sends them. 0 once durable: from then on the
 * bus owns delivery. PL_EREDIS when the outbox could not store them (nothing sent). The
 * envelopes are encoded here and may be freed by the caller afterwards. */
int pl_bus_client_send (pl_bus_client_t *self, pl_envelope_t *const *envs, size_t n);
/* For zmq_poll. */
void *pl_bus_client_socket (pl_bus_client_t *self);
/* Reads acks and nacks without blocking; deletes acked messages from the outbox. Returns the
 * number of answers read, or PL_EREDIS when the outbox could not be updated (retried later). */
int pl_bus_client_process (pl_bus_client_t *self);
/* Timers: resends what is overdue, retries outbox deletes that failed, re-resolves the
 * endpoint. Call every ~100 ms. */
int pl_bus_client_tick (pl_bus_client_t *self);
/* Reads what steps just wrote to the outbox's slots and sends what the window allows, now rather
 * than at the next tick (which reads them every 100 ms): a service calls it after handling
 * messages, so that an answer a caller waits for (a dial-time verdict) leaves at once. One Redis
 * round trip when nothing is new. 0, or PL_EREDIS (the next tick tries again). */
int pl_bus_client_pull (pl_bus_client_t *self);
/* Messages sent and not yet acknowledged (in memory; the outbox holds the same set). */
size_t pl_bus_client_inflight (const pl_bus_client_t *self);
/* Ack timeout before the first resend (default 2000 ms, doubling to 30 s). */
void pl_bus_client_set_ack_timeout (pl_bus_client_t *self, int ms);
/* At most n messages on the wire awaiting an ack (default 4096); the rest wait their turn in
 * the outbox, so a slow receiver is not flooded into timeouts and resends. */
void pl_bus_client_set_window (pl_bus_client_t *self, size_t n);
/* How often the endpoint is resolved again (default 10000 ms). */
void pl_bus_client_set_resolve_interval (pl_bus_client_t *self, int ms);
/* How long an empty slot of the transactional outbox stays known once nothing of it is in flight
 * (default 60000 ms): a tag written once (one number's opt-out) is then forgotten, in Redis and in
 * the client, so that reading the slots costs what is live, not every tag ever written. */
void pl_bus_client_set_slot_idle (pl_bus_client_t *self, int ms);
/* Called once a message the peer refused permanently is in the outbox's dead letters, with the
 * message and "CODE: reason": the sender may undo what waited on its answer (a dialer frees the
 * line its refused check held) rather than wait for a timer. env is the client's, valid during
 * the call. */
typedef void (pl_bus_dead_fn) (void *arg, const pl_envelope_t *env, const char *reason);
void pl_bus_client_on_dead (pl_bus_client_t *self, pl_bus_dead_fn *fn, void *arg);
/* Number of distinct addresses currently connected. */
size_t pl_bus_client_peers (const pl_bus_client_t *self);
/* Counters: "sent", "resent", "acked", "nacked", "dead", and "handshake_failed" (CURVE
 * handshakes the server refused: a wrong server key, or this client's key not listed). */
uint64_t pl_bus_client_count (const pl_bus_client_t *self, const char *what);
const char *pl_bus_client_errstr (const pl_bus_client_t *self);

/* Writes a new CURVE key pair as Z85 text files (secret file mode 0600). */
int pl_bus_curve_keygen (const char *public_file, const char *secret_file);

#endif
