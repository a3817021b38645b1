/*  log.h — one JSON object per line on stdout.
 *
 *  {"time":"2026-11-29T08:00:00.123Z","level":"info","service":"intake","trace_id":"…",
 *   "msg":"lead accepted","lead_id":"…","number":"+3361234****"}
 *  Fields are key/value string pairs terminated by NULL. Numbers must be masked by the caller
 *  with pl_log_mask_number(). Writes are line-atomic (one write(2) per record).
 */
#ifndef PL_LOG_H
#define PL_LOG_H
#include <stddef.h>

typedef enum { PL_LOG_DEBUG, PL_LOG_INFO, PL_LOG_WARN, PL_LOG_ERROR } pl_log_level_t;

typedef struct pl_log pl_log_t;

/* A logger for `service` writing to fd (1 = stdout). Free with pl_log_destroy. */
pl_log_t *pl_log_new (const char *service, int fd);
void pl_log_destroy (pl_log_t **self_p);
void pl_log_set_level (pl_log_t *self, pl_log_level_t level);
/* Parses "debug|info|warn|error"; PL_EINVAL otherwise. */
int pl_log_level_parse (const char *text, pl_log_level_t *out);

/* Logs msg with optional trace_id (may be NULL) and NULL-terminated key, value pairs. */
void pl_log (pl_log_t *self, pl_log_level_t level, const char *trace_id, const char *msg, ...)
    __attribute__ ((sentinel));

#define pl_log_info(l, t, m, ...)  pl_log ((l), PL_LOG_INFO, (t), (m), ##__VA_ARGS__, NULL)
#define pl_log_warn(l, t, m, ...)  pl_log ((l), PL_LOG_WARN, (t), (m), ##__VA_ARGS__, NULL)
#define pl_log_error(l, t, m, ...) pl_log ((l), PL_LOG_ERROR, (t), (m), ##__VA_ARGS__, NULL)
#define pl_log_debug(l, t, m, ...) pl_log ((l), PL_LOG_DEBUG, (t), (m), ##__VA_ARGS__, NULL)

/* Writes "+3361234****" (last 4 digits masked) into out; returns out. */
char *pl_log_mask_number (const char *e164, char *out, size_t out_size);

#endif
