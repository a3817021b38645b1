/*  cmd_clock.c — `plateauctl clock`: move the virtual clock of running services.
 *
 *  Services started with PLATEAU_CLOCK=virtual[:<ms>] accept a ClockControl message on their
 *  bus door (see service.h). This command sends one to every --to endpoint through a bus
 *  client, like any service would: the message is kept in an outbox in Redis until the service
 *  acknowledges it, and resent if it is not. It then waits for each answer and prints one line
 *  per target. A service refuses (nacks INVALID) a time earlier than its own — virtual time
 *  never goes backwards — and so does a service on the real clock.
 *
 *  The bus runs CURVE unless PLATEAU_BUS_SECURITY=plaintext: plateauctl speaks as the identity
 *  "plateauctl" (PLATEAU_BUS_IDENTITY) with PLATEAU_CURVE_SECRET_KEY_FILE and
 *  PLATEAU_BUS_KEYS_FILE, and names each target by its identity: --to audit@tcp://host:port, or
 *  --to audit alone for the endpoint in $PLATEAU_AUDIT_BUS (run/stack.env has them).
 *
 *  The outbox belongs to this invocation (owner plateauctl-<host>-<pid>), and nobody resends
 *  it after we exit; so before exiting the command removes what it leaves there: the
 *  dead letter of a refused message, once its reason is read, and the message itself when no
 *  answer came in time.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "commands.h"
#include "plateau/bus.h"
#include "plateau/error.h"
#include "plateau/outbox.h"

#define S_MAX_TARGETS 64
#define S_DEFAULT_TIMEOUT_MS 10000

typedef enum { S_WAITING, S_ACKED, S_REFUSED, S_FAILED } s_state_t;

typedef struct {
    const char *endpoint;
    char identity[64];         /* the service's name in the key list */
    pl_bus_client_t *client;
    char id[PL_ID_LEN + 1];
    s_state_t state;
    char detail[512];
} s_target_t;

void
ctl_clock_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl clock set <time> --to SERVICE [--to SERVICE…] [options]\n"
             "       plateauctl clock advance <duration> --to SERVICE [--to SERVICE…] [options]\n"
             "       plateauctl clock run <time> --speed N --to SERVICE [--to SERVICE…] [options]\n"
             "\n"
             "Moves the virtual clock of running services (started with\n"
             "PLATEAU_CLOCK=virtual[:<UTC ms>]) by sending each a ClockControl message on its bus\n"
             "door, and waits for every answer. Virtual time never goes backwards: a service\n"
             "refuses a time earlier than its own, and a service on the real clock refuses both.\n"
             "\n"
             "  <time>       UTC milliseconds (1764403200000) or ISO-8601 with a zone\n"
             "               (2026-11-29T08:00:00Z, 2026-11-29T09:00:00+01:00; a bare date is\n"
             "               midnight UTC)\n"
             "  <duration>   90s, 15m, 2h, 7d, 1h30m, 250ms\n"
             "  run          make the clocks run from <time>, now, at N virtual ms per real ms:\n"
             "               every target gets the same wall-clock anchor, so they all read the\n"
             "               same virtual time (a simulated day in 86 s at --speed 1000)\n"
             "\n"
             "options:\n"
             "  --speed N          run: virtual milliseconds per real millisecond (1 to 1000000)\n"
             "  --anchor T         run: the wall-clock instant <time> is read at (UTC ms; default a\n"
             "                     second from now); a service started later joins with the same\n"
             "                     three values (PLATEAU_CLOCK=virtual:<time>@<T>x<N>)\n"
             "  --to SERVICE[@ENDPOINT]\n"
             "                     a service by its identity in the key list, and its bus door\n"
             "                     tcp://host:port (default: $PLATEAU_<SERVICE>_BUS, as in\n"
             "                     run/stack.env); repeat for every service whose clock should\n"
             "                     move. With PLATEAU_BUS_SECURITY=plaintext, ENDPOINT alone\n"
             "  --redis URL        Redis for the outbox (default: PLATEAU_REDIS_URL)\n"
             "  --timeout DURATION how long to wait for the answers (default 10s)\n"
             "\n"
             "Prints one line per target: '<endpoint> ack …', '<endpoint> refused <reason>' or\n"
             "'<endpoint> no answer …'. Exit status 0 when every target acknowledged, 1 when one\n"
             "refused or did not answer, 2 on a usage error.\n");
}

/* Reads the reason the bus client stored with a dead letter ("INVALID: …\n<message>"), then
 * removes the dead letter. */
static void
s_refusal (pl_redis_t *redis, const char *owner, s_target_t *t)
{
    char key[512];
    snprintf (key, sizeof key, "pl:{ob:%s:%s}:dead", owner, t->endpoint);
    pl_reply_t *r = pl_redis_command (redis, "HGET %s %s", key, t->id);
    if (r && pl_reply_type (r) == PL_REPLY_STRING) {
        const char *why = pl_reply_str (r, NULL);
        snprintf (t->detail, sizeof t->detail, "%.*s", (int) strcspn (why, "\n"), why);
    }
    else
        snprintf (t->detail, sizeof t->detail, "refused (no reason found with the dead letter)");
    pl_reply_free (&r);
    pl_redis_exec (redis, "HDEL %s %s", key, t->id);
    char at_key[540];                  /* when it died (outbox.h): goes with it */
    snprintf (at_key, sizeof at_key, "%s:at", key);
    pl_redis_exec (redis, "ZREM %s %s", at_key, t->id);
}

/* Looks at one target's client after it processed its answers. */
static void
s_check (pl_redis_t *redis, const char *owner, s_target_t *t)
{
    if (pl_bus_client_count (t->client, "acked") > 0)
        t->state = S_ACKED;
    else if (pl_bus_client_count (t->client, "dead") > 0) {
        t->state = S_REFUSED;
        s_refusal (redis, owner, t);
    }
}

static int
s_send (pl_redis_t *redis, pl_clock_t *clock, const char *owner, s_target_t *t,
        Plateau__V1__ClockControl *cc, const pl_bus_options_t *bus_options)
{
    char err[512];
    pl_bus_options_t o = bus_options ? *bus_options : (pl_bus_options_t) { 0 };
    o.server_identity = t->identity;
    t->client = pl_bus_client_new (redis, clock, owner, t->endpoint, t->endpoint, bus_options ? &o : NULL,
                                   err, sizeof err);
    if (!t->client) {
        t->state = S_FAILED;
        snprintf (t->detail, sizeof t->detail, "%s", err);
        return -1;
    }
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "plateauctl", clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL;
    env.clock_control = cc;
    pl_envelope_t *p = &env;
    memcpy (t->id, ids.id, sizeof t->id);
    if (pl_bus_client_send (t->client, &p, 1) != 0) {
        t->state = S_FAILED;
        snprintf (t->detail, sizeof t->detail, "not sent: %s", pl_bus_client_errstr (t->client));
        return -1;
    }
    return 0;
}

/* Polls every waiting target until all have answered or the deadline passes. */
static void
s_wait (pl_redis_t *redis, const char *owner, s_target_t *targets, size_t n, int64_t timeout_ms)
{
    int64_t deadline = pl_clock_mono_ms () + timeout_ms, next_tick = 0;
    for (;;) {
        zmq_pollitem_t items[S_MAX_TARGETS];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (targets[i].state == S_WAITING)
                items[k++] = (zmq_pollitem_t) { pl_bus_client_socket (targets[i].client), 0, ZMQ_POLLIN, 0 };
        int64_t now = pl_clock_mono_ms ();
        if (k == 0 || now >= deadline)
            return;
        zmq_poll (items, (int) k, deadline - now < 100 ? (long) (deadline - now) : 100);
        now = pl_clock_mono_ms ();
        for (size_t i = 0; i < n; i++) {
            s_target_t *t = &targets[i];
            if (t->state != S_WAITING)
                continue;
            pl_bus_client_process (t->client);
            if (now >= next_tick)
                pl_bus_client_tick (t->client);    /* resends, and connects late peers */
            s_check (redis, owner, t);
        }
        if (now >= next_tick)
            next_tick = now + 100;
    }
}

/* A target that never answered: take its message back out of the outbox, since no process
 * will ever resend it. The service may still have applied it (an ack lost on the way). */
static void
s_give_up (pl_redis_t *redis, const char *owner, s_target_t *t, int64_t timeout_ms)
{
    uint64_t nacks = pl_bus_client_count (t->client, "nacked");
    if (nacks)
        snprintf (t->detail, sizeof t->detail,
                  "no answer within %lld ms but %llu retryable refusal(s): the service is busy, "
                  "draining or without Redis",
                  (long long) timeout_ms, (unsigned long long) nacks);
    else if (pl_bus_client_count (t->client, "sent") == 0)
        snprintf (t->detail, sizeof t->detail, "no answer within %lld ms: could not connect",
                  (long long) timeout_ms);
    else
        snprintf (t->detail, sizeof t->detail,
                  "no answer within %lld ms (the message may or may not have been applied)",
                  (long long) timeout_ms);
    pl_bus_client_destroy (&t->client);
    pl_outbox_t *ob = pl_outbox_new (redis, owner, t->endpoint);
    const char *ids[] = { t->id };
    if (ob)
        pl_outbox_ack (ob, 1, ids);
    pl_outbox_destroy (&ob);
    t->state = S_FAILED;
}

int
ctl_clock_run (int argc, char **argv)
{
    static const struct option opts[] = {
        { "to", required_argument, NULL, 't' },
        { "redis", required_argument, NULL, 'r' },
        { "timeout", required_argument, NULL, 'w' },
        { "speed", required_argument, NULL, 's' },
        { "anchor", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    s_target_t targets[S_MAX_TARGETS];
    memset (targets, 0, sizeof targets);
    size_t ntargets = 0;
    const char *redis_flag = NULL;
    int64_t timeout_ms = S_DEFAULT_TIMEOUT_MS;
    long speed = 0;
    int64_t anchor = 0;
    int c;
    optind = 1;
    while ((c = getopt_long (argc, argv, "t:r:w:s:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': {
            if (ntargets == S_MAX_TARGETS)
                return ctl_usage_error ("clock", "at most %d --to", S_MAX_TARGETS);
            s_target_t *t = &targets[ntargets++];
            const char *at = strchr (optarg, '@');
            if (ctl_endpoint_valid (optarg))
                t->endpoint = optarg;              /* plaintext only: checked below */
            else {
                size_t n = at ? (size_t) (at - optarg) : strlen (optarg);
                snprintf (t->identity, sizeof t->identity, "%.*s", (int) n, optarg);
                if (at)
                    t->endpoint = at + 1;
                else {
                    char var[128];
                    snprintf (var, sizeof var, "PLATEAU_%s_BUS", t->identity);
                    for (char *p = var; *p; p++)
                        *p = (char) toupper ((unsigned char) *p);
                    t->endpoint = getenv (var);
                    if (!t->endpoint)
                        return ctl_usage_error ("clock", "--to %s: no endpoint (give %s@tcp://host:port, or set %s)",
                                                optarg, optarg, var);
                }
            }
            if (!t->endpoint || !ctl_endpoint_valid (t->endpoint) || (at && !*t->identity))
                return ctl_usage_error ("clock", "--to '%s': expected SERVICE, SERVICE@tcp://host:port or "
                                                 "SERVICE@ipc://path", optarg);
            break;
        }
        case 'r':
            redis_flag = optarg;
            break;
        case 'a':
            if (ctl_parse_time (optarg, &anchor) != 0 || anchor <= 0)
                return ctl_usage_error ("clock", "--anchor '%s': expected a wall-clock time (UTC ms)", optarg);
            break;
        case 's': {
            char *end;
            speed = strtol (optarg, &end, 10);
            if (*end || speed < 1 || speed > 1000000)
                return ctl_usage_error ("clock", "--speed '%s': expected 1 to 1000000", optarg);
            break;
        }
        case 'w':
            if (ctl_parse_duration (optarg, &timeout_ms) != 0 || timeout_ms <= 0)
                return ctl_usage_error ("clock", "--timeout '%s': expected a duration such as 10s", optarg);
            break;
        case 'h':
            ctl_clock_usage (stdout);
            return CTL_EXIT_OK;
        default:
            ctl_clock_usage (stderr);
            return CTL_EXIT_USAGE;
        }
    }
    if (argc - optind != 2)
        return ctl_usage_error ("clock", "expected 'set <time>', 'advance <duration>' or 'run <time> --speed N'");
    const char *action = argv[optind], *value = argv[optind + 1];
    Plateau__V1__ClockControl cc = PLATEAU__V1__CLOCK_CONTROL__INIT;
    char what[128];
    if (strcmp (action, "set") == 0) {
        int64_t ms;
        if (ctl_parse_time (value, &ms) != 0 || ms <= 0)
            return ctl_usage_error ("clock", "set '%s': expected UTC milliseconds or an ISO-8601 time "
                                             "with a zone (2026-11-29T08:00:00Z)", value);
        cc.set_ms = ms;
        char iso[40];
        snprintf (what, sizeof what, "clock set to %s (%lld)", ctl_format_time (ms, iso, sizeof iso),
                  (long long) ms);
    }
    else if (strcmp (action, "advance") == 0) {
        int64_t ms;
        if (ctl_parse_duration (value, &ms) != 0 || ms <= 0)
            return ctl_usage_error ("clock", "advance '%s': expected a positive duration such as 90s, "
                                             "15m, 2h or 7d", value);
        cc.advance_ms = ms;
        snprintf (what, sizeof what, "clock advanced by %s (%lld ms)", value, (long long) ms);
    }
    else if (strcmp (action, "run") == 0) {
        int64_t ms;
        if (ctl_parse_time (value, &ms) != 0 || ms <= 0)
            return ctl_usage_error ("clock", "run '%s': expected UTC milliseconds or an ISO-8601 time "
                                             "with a zone (2026-11-29T08:00:00Z)", value);
        if (speed < 1)
            return ctl_usage_error ("clock", "run: --speed N (1 to 1000000) is required");
        cc.set_ms = ms;
        /* An anchor a second ahead: every target stands at <time> until then and they all start
         * together, whatever order the messages arrive in. */
        cc.anchor_real_ms = anchor ? anchor : pl_clock_now_ms (NULL) + 1000;
        cc.speed = (int32_t) speed;
        char iso[40];
        snprintf (what, sizeof what, "clock running from %s at %ld×", ctl_format_time (ms, iso, sizeof iso), speed);
    }
    else
        return ctl_usage_error ("clock", "unknown action '%s': expected set, advance or run", action);
    if (ntargets == 0)
        return ctl_usage_error ("clock", "no target: pass --to SERVICE (a service's bus door)");
    /* CURVE as the identity "plateauctl", unless the stack runs plaintext. */
    const char *security = getenv ("PLATEAU_BUS_SECURITY");
    bool plaintext = security && strcmp (security, "plaintext") == 0;
    pl_bus_options_t bus_options = { .curve_secret_key_file = getenv ("PLATEAU_CURVE_SECRET_KEY_FILE"),
                                     .keys_file = getenv ("PLATEAU_BUS_KEYS_FILE") };
    if (!plaintext) {
        if (!bus_options.curve_secret_key_file || !bus_options.keys_file)
            return ctl_usage_error ("clock", "the bus runs CURVE: set PLATEAU_CURVE_SECRET_KEY_FILE and "
                                             "PLATEAU_BUS_KEYS_FILE (run/stack.env has them), or "
                                             "PLATEAU_BUS_SECURITY=plaintext");
        for (size_t i = 0; i < ntargets; i++)
            if (!*targets[i].identity)
                return ctl_usage_error ("clock", "--to %s: name the service (SERVICE@%s): the bus runs CURVE",
                                        targets[i].endpoint, targets[i].endpoint);
    }
    const char *url = ctl_redis_url ("clock", redis_flag);
    if (!url)
        return CTL_EXIT_USAGE;

    pl_redis_t *redis = pl_redis_new (url, 2000);
    if (!redis || pl_redis_connect (redis) != 0) {
        fprintf (stderr, "plateauctl clock: Redis %s: %s\n", url, redis ? pl_redis_errstr (redis) : "invalid");
        pl_redis_destroy (&redis);
        return CTL_EXIT_FAIL;
    }
    pl_clock_t *clock = pl_clock_new_real ();
    char host[64] = "local", owner[128];
    gethostname (host, sizeof host - 1);
    snprintf (owner, sizeof owner, "plateauctl-%s-%ld", host, (long) getpid ());
    for (size_t i = 0; i < ntargets; i++)
        s_send (redis, clock, owner, &targets[i], &cc, plaintext ? NULL : &bus_options);
    s_wait (redis, owner, targets, ntargets, timeout_ms);

    int status = CTL_EXIT_OK;
    for (size_t i = 0; i < ntargets; i++) {
        s_target_t *t = &targets[i];
        if (t->state == S_WAITING)
            s_give_up (redis, owner, t, timeout_ms);
        switch (t->state) {
        case S_ACKED:
            printf ("%s ack: %s\n", t->endpoint, what);
            break;
        case S_REFUSED:
            printf ("%s refused: %s\n", t->endpoint, t->detail);
            status = CTL_EXIT_FAIL;
            break;
        default:
            printf ("%s %s\n", t->endpoint, t->detail);
            status = CTL_EXIT_FAIL;
            break;
        }
        pl_bus_client_destroy (&t->client);
    }
    fflush (stdout);
    pl_clock_destroy (&clock);
    pl_redis_destroy (&redis);
    return status;
}
