/*  config.h — PLATEAU_* environment variables and secret files.
 *
 *  A service declares what it reads; the first bad or missing value is remembered with the
 *  variable's name and what was expected, and pl_config_check_or_exit() prints it and the
 *  service exits with status 2 ("PLATEAU_REDIS_URL: expected redis://[:password@]host:port/db or
 *  unix:///path, got 'localhost'"). Secrets come from files (PLATEAU_<NAME>_FILE) so that
 *  Kubernetes Secrets mounted as volumes work; the value itself is never logged.
 *
 *  Reads go through an environment lookup function so tests can supply their own table.
 *
 *  A variable set to the empty string counts as unset (orchestrators render absent settings
 *  as VAR=""). Numbers, durations, sizes and booleans may carry surrounding blanks. A config is
 *  read by one thread, at start.
 */
#ifndef PL_CONFIG_H
#define PL_CONFIG_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct pl_config pl_config_t;
typedef const char *(pl_config_getenv_fn) (const char *name, void *arg);

/* Reads the process environment. */
pl_config_t *pl_config_new (void);
/* Reads through fn (tests). */
pl_config_t *pl_config_new_with (pl_config_getenv_fn *fn, void *arg);
void pl_config_destroy (pl_config_t **self_p);

/* Each getter returns the value or the default when the variable is unset. An invalid value
 * records an error (first one wins) and returns the default. Strings are owned by self. */
const char *pl_config_str (pl_config_t *self, const char *name, const char *def);
/* Required string: unset or empty records an error. */
const char *pl_config_str_required (pl_config_t *self, const char *name, const char *expected);
int64_t pl_config_int (pl_config_t *self, const char *name, int64_t def, int64_t min, int64_t max);
/* Durations: "250ms", "10s", "5m", "2h", "30d", or sums such as "1h30m"; a bare "0" is zero,
 * any other number needs a unit. Returns milliseconds. */
int64_t pl_config_duration_ms (pl_config_t *self, const char *name, int64_t def_ms);
/* Sizes: "512", "64k", "10M", "1G", "1T" (powers of 1024, any case, optional "B" or "iB":
 * "64KiB", "10MB"); returns bytes. */
int64_t pl_config_size (pl_config_t *self, const char *name, int64_t def);
bool pl_config_bool (pl_config_t *self, const char *name, bool def);
/* Contents of the file named by <name> (e.g. PLATEAU_API_TOKENS_FILE), trailing newlines
 * stripped. Required when `required`; NULL when unset and not required, or on error. The
 * file must be a regular text file of at most 1 MiB; a required one must not be empty. Error
 * messages name the variable and the path, never the contents; the copy kept by self is
 * wiped by pl_config_destroy. */
const char *pl_config_secret_file (pl_config_t *self, const char *name, bool required);
/* Records a custom error (validation done by the service itself). `got` is the offending
 * value (quoted and cut to 80 bytes in the message) or NULL for "nothing". Never pass a
 * secret as `got`. */
void pl_config_fail (pl_config_t *self, const char *name, const char *expected, const char *got);

/* 0 when every read was valid; PL_ECONFIG otherwise, with the message in pl_config_errstr(). */
int pl_config_ok (const pl_config_t *self);
/* "PLATEAU_X: expected <what>, got '<value>'", or "" when all is well. */
const char *pl_config_errstr (const pl_config_t *self);
/* Name of the variable of the first error, or NULL. */
const char *pl_config_errvar (const pl_config_t *self);
/* Services call this after reading their config: prints the error as a JSON log line on
 * stderr ({"level":"error","service":…,"msg":"invalid configuration","error":…,
 * "variable":…,"expected":…,"got":…}) and exits with status 2 when something was wrong;
 * returns when all is well. */
void pl_config_check_or_exit (const pl_config_t *self, const char *service);

#endif
