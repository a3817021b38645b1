/*  metrics.h — counters, gauges and histograms rendered in Prometheus text format.
 *
 *  Names follow plateau_<service>_<thing>_<unit>. A metric is registered once with its help
 *  text and fixed label names; series are looked up by label values. Updates are lock-free
 *  (atomic) so worker threads may update while the ops port renders.
 */
#ifndef PL_METRICS_H
#define PL_METRICS_H
#include <stdint.h>
#include <stddef.h>

typedef struct pl_metrics pl_metrics_t;
typedef struct pl_metric pl_metric_t;

pl_metrics_t *pl_metrics_new (void);
void pl_metrics_destroy (pl_metrics_t **self_p);

/* label_names: comma-separated ("status,source") or NULL. Returned handles are owned by self. */
pl_metric_t *pl_metrics_counter (pl_metrics_t *self, const char *name, const char *help, const char *label_names);
pl_metric_t *pl_metrics_gauge (pl_metrics_t *self, const char *name, const char *help, const char *label_names);
/* bounds: ascending upper bounds in the metric's unit (seconds for *_seconds), n of them. */
pl_metric_t *pl_metrics_histogram (pl_metrics_t *self, const char *name, const char *help,
                                   const char *label_names, const double *bounds, size_t n);

/* label_values: comma-separated values in label order, or NULL for an unlabelled metric. */
void pl_metric_inc (pl_metric_t *m, const char *label_values, double by);
void pl_metric_set (pl_metric_t *m, const char *label_values, double value);
void pl_metric_observe (pl_metric_t *m, const char *label_values, double value);
/* Current value of a counter or gauge series (tests, health logic). */
double pl_metric_value (pl_metric_t *m, const char *label_values);

/* Renders everything in Prometheus text exposition format 0.0.4. Returns a malloc'd string. */
char *pl_metrics_render (pl_metrics_t *self);

#endif
