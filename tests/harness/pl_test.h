/*  pl_test.h — what integration tests need to run against real parts.
 *
 *  pl_test_redis_start() runs a private redis-server on a free loopback port in its own temporary
 *  directory; the server is killed with the test process even when the test crashes
 *  (PR_SET_PDEATHSIG), and pl_test_redis_stop() removes its directory. Tests never share a Redis,
 *  so ctest may run them in parallel.
 *
 *  pl_test_free_port() finds a free TCP port on 127.0.0.1. pl_test_spawn() starts a built
 *  executable (from build/bin) with extra environment, for tests that kill and restart services.
 */
#ifndef PL_TEST_H
#define PL_TEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "plateau/bus.h"

typedef struct pl_test_redis pl_test_redis_t;

/* The settings docs/operations.md recommends for plateau's Redis beside the defaults, for the
 * benchmarks to measure what a deployment runs (the tests keep Redis's defaults: behaviour must
 * not depend on them). A hash whose values are all at most 512 bytes stays a listpack: a lead
 * with its 285-byte protobuf costs 432 bytes instead of 632. */
#define PL_TEST_REDIS_TUNING "hash-max-listpack-value 512\n"

/* Starts redis-server; NULL (with a message on stderr) if it cannot. extra_conf may be NULL or
 * lines of redis.conf ("appendonly yes\n"). */
pl_test_redis_t *pl_test_redis_start (const char *extra_conf);
void pl_test_redis_stop (pl_test_redis_t **self_p);
/* "redis://127.0.0.1:<port>/0" — valid for the life of the object. With PL_TEST_REDIS_CLUSTER=1
 * in the environment every start is a Redis Cluster of three masters instead, the URL
 * redis+cluster://… (port: the first node's), so that a suite runs on a cluster unchanged. */
const char *pl_test_redis_url (const pl_test_redis_t *self);
int pl_test_redis_port (const pl_test_redis_t *self);
/* The port of node i of a cluster (0, 1, 2), or of the server for i = 0; -1 past the last. */
int pl_test_redis_node_port (const pl_test_redis_t *self, int i);
/* Stops the server (SIGKILL when hard, SHUTDOWN NOSAVE otherwise) and starts it again on the same
 * port with the same data directory: for outage and recovery tests. */
int pl_test_redis_kill (pl_test_redis_t *self);
int pl_test_redis_restart (pl_test_redis_t *self);
/* Runs one command with redis-cli-like semantics and returns the integer reply (or -1). */
long long pl_test_redis_int (pl_test_redis_t *self, const char *fmt, ...);

/* xorshift64: repeatable pseudo-random numbers from a seed (*state, never 0) for tests and
 * benches, so that a failing case can be replayed. */
uint64_t pl_test_rand (uint64_t *state);

/* The load averages as /proc/loadavg has them ("0.69 1.28 1.86 1/86 21105", no newline; "?"
 * when unreadable): benches print them, since their figures mean nothing on a busy machine. */
void pl_test_loadavg (char *out, size_t size);

/* "YYYY-MM-DD" of today plus `days` (negative: before), UTC: a registry copy's date. */
void pl_test_date (int days, char out[11]);

int pl_test_free_port (void);
/* A fresh temporary directory under $TMPDIR (removed by pl_test_rmdir). Returns malloc'd path. */
char *pl_test_tmpdir (const char *prefix);
void pl_test_rmdir (const char *path);

/* The test key list (CURVE on in tests as in production): a key pair for each of the
 * identities intake, audit, scrub, dialer, promises, template, plateauctl, test and crm, and
 * the list naming them, made once per test process in a temporary directory (removed at exit).
 * pl_test_spawn() gives a plateau service it starts its key (by PLATEAU_BUS_IDENTITY, else the
 * executable's name without "plateau-") and the list, unless the test's env sets
 * PLATEAU_BUS_SECURITY or PLATEAU_CURVE_SECRET_KEY_FILE itself. */
const char *pl_test_bus_keys_dir (void);
/* Bus options speaking as `identity` of the test key list (NULL if it is not one of them). */
const pl_bus_options_t *pl_test_bus_options (const char *identity);
/* A CURVE bus server as `identity` that takes every type from every listed identity (a
 * stand-in for a peer service). NULL with the reason on stderr. */
pl_bus_server_t *pl_test_bus_server (const char *endpoint, const char *identity);
/* pl_test_bus_server() on a free loopback port, written to endpoint ("tcp://127.0.0.1:N"): a
 * port picked free can be taken by a parallel test before the bind, so another is tried. */
pl_bus_server_t *pl_test_bus_server_free (char *endpoint, size_t size, const char *identity);

/* Path of a built executable: $PL_BIN_DIR/name. Returns a static buffer. */
const char *pl_test_bin (const char *name);
/* CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; -1 when it
 * cannot be read. */
double pl_test_proc_cpu (pid_t pid);
/* Where pl_test_bin() looks, for a benchmark started by hand: dir when given (its --bin),
 * else PL_BIN_DIR when set, else the directory of this executable (the services beside it). */
void pl_test_bin_dir (const char *dir);
/* Runs the shell command `cmd` (stderr with stdout) and keeps its first size - 1 bytes of output
 * in out. Returns its exit status, or -1 when it could not run or did not exit. */
int pl_test_run (const char *cmd, char *out, size_t size);
/* Starts argv[0] (resolved with pl_test_bin when it has no '/') with env entries "K=V" added to
 * the current environment (NULL-terminated, may be NULL); stdout/stderr go to log_path (appended)
 * when not NULL. Returns the pid, or -1. The child dies with the test (PR_SET_PDEATHSIG). */
pid_t pl_test_spawn (char *const argv[], char *const env[], const char *log_path);
/* Sends sig and waits up to timeout_ms; returns the exit status as waitpid gives it, -1 on
 * timeout (the child is then SIGKILLed). */
int pl_test_stop (pid_t pid, int sig, int timeout_ms);
/* true while pid (a child of this process) has not exited. */
bool pl_test_alive (pid_t pid);
/* true when the file at path contains needle. */
bool pl_test_file_has (const char *path, const char *needle);
/* Waits until the service spawned as pid logs "started" in log_path (it has bound every port and
 * runs its loop): true; false when it exits first or timeout_ms passes. Ports picked with
 * pl_test_free_port() can be taken by another process before the service binds them: a false
 * here means "pick new ports and spawn again", not a failed test. */
bool pl_test_wait_started (pid_t pid, const char *log_path, int timeout_ms);
/* Polls until fn(arg) is true or timeout_ms passes. Real time: for processes, not rules. */
bool pl_test_wait_until (bool (*fn) (void *arg), void *arg, int timeout_ms);
/* GETs http://127.0.0.1:port/path; returns the status code (or -1) and the decoded body in *body
 * (malloc'd, may be NULL). Built on pl_test_http.h, which has the rest of the client. */
int pl_test_http_get (int port, const char *path, char **body);

#endif
