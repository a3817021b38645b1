/*  metrics.h — counters, gauges and histograms rendered in Prometheus text format.
 *
 *  Names follow plateau_<service>_<thing>_<unit>. A metric is registered once with its help
 *  text and fixed label names; series are looked up by label values. Updates are lock-free
 *  (atomic) so worker threads may update while the ops port renders.
 *
 *  Threads: every function may be called from any thread. Updating an existing series never
 *  blocks; the first update of a new label combination and pl_metrics_render take a mutex.
 *  Series are never forgotten before pl_metrics_destroy, so keep label values bounded (status
 *  codes, source names; never lead ids or phone numbers).
 *
 *  Label values cannot contain a comma (it separates them); any other byte is escaped as the
 *  format requires. An update whose label values do not match the metric's label names, or
 *  that is made through a NULL handle, is ignored: a metrics mistake must not stop a service.
 */
#ifndef PL_METRICS_H
#define PL_METRICS_H
#include <stdint.h>
#include <stddef.h>

typedef struct pl_metrics pl_metrics_t;
typedef struct pl_metric pl_metric_t;

pl_metrics_t *pl_metrics_new (void);
void pl_metrics_destroy (pl_metrics_t **self_p);

/* label_names: comma-separated ("status,source") or NULL. Returned handles are owned by self.
 * Registering the same name again with the same type and labels returns the same handle; NULL
 * for an invalid name or label, or a clash with an existing metric of that name. An unlabelled
 * metric renders as 0 from the start. */
pl_metric_t *pl_metrics_counter (pl_metrics_t *self, const char *name, const char *help, const char *label_names);
pl_metric_t *pl_metrics_gauge (pl_metrics_t *self, const char *name, const char *help, const char *label_names);
/* bounds: ascending upper bounds in the metric's unit (seconds for *_seconds), n of them; the
 * +Inf bucket is implied. NULL / 0 gives Prometheus' defaults (0.005 … 10). */
pl_metric_t *pl_metrics_histogram (pl_metrics_t *self, const char *name, const char *help,
                                   const char *label_names, const double *bounds, size_t n);

/* label_values: comma-separated values in label order, or NULL for an unlabelled metric.
 * inc: counters and gauges (a negative `by` lowers a gauge; it is ignored for a counter).
 * set: gauges. observe: histograms (NaN is ignored). */
void pl_metric_inc (pl_metric_t *m, const char *label_values, double by);
void pl_metric_set (pl_metric_t *m, const char *label_values, double value);
void pl_metric_observe (pl_metric_t *m, const char *label_values, double value);
/* Current value of a counter or gauge series, or the observation count of a histogram series
 * (tests, health logic). 0 for a series never updated. */
double pl_metric_value (pl_metric_t *m, const char *label_values);
/* Sum of the observations of a histogram series; 0 otherwise. */
double pl_metric_sum (pl_metric_t *m, const char *label_values);

/* Renders everything in Prometheus text exposition format 0.0.4: metrics in registration
 * order, each with its # HELP and # TYPE lines, series in creation order. Returns a malloc'd
 * string (free it), or NULL when out of memory. */
char *pl_metrics_render (pl_metrics_t *self);

#endif
