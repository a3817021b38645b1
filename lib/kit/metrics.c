/*  metrics.c — counters, gauges and histograms in Prometheus text format (see metrics.h).
 *
 *  Worker threads update series while the ops thread renders them, so the hot path takes no
 *  lock. Each metric keeps its series in a small hash table whose chains only ever grow at the
 *  head: a new series is fully built, then published with a release store of the chain head,
 *  and readers walk the chains with acquire loads. Series are never removed before the registry
 *  is destroyed, so a reader can never meet a freed node. Creating a series (the first update of
 *  a new label combination) and rendering take the registry mutex; updating an existing series
 *  is a hash, a walk of a short chain and one atomic operation.
 *
 *  Doubles live in _Atomic uint64_t as their bit patterns; additions are compare-and-swap loops.
 *  Histogram buckets are stored non-cumulative and summed at render time, and _count is the sum
 *  of the buckets, so the +Inf bucket always equals _count even while observations race with a
 *  scrape.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/metrics.h"

#define S_TABLE_SIZE 64              /* hash chains per metric; a power of two */

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_type_t;

typedef struct s_series {
    struct s_series *hnext;          /* hash chain: set before publication, never changed */
    struct s_series *next;           /* render order: written under the registry mutex */
    char *key;                       /* label values as the caller gave them ("" if none) */
    char **values;                   /* split label values, one per label name */
    _Atomic uint64_t bits;           /* counter or gauge value, as double bits */
    _Atomic uint64_t sum_bits;       /* histogram: sum of observations, as double bits */
    _Atomic uint64_t *buckets;       /* histogram: n_bounds + 1 counts, last one is +Inf */
} s_series_t;

struct pl_metric {
    pl_metrics_t *owner;
    s_type_t type;
    char *name;
    char *help;
    char *label_spec;                /* label names as registered, for re-registration checks */
    char **labels;
    size_t n_labels;
    double *bounds;
    size_t n_bounds;
    _Atomic (s_series_t *) table[S_TABLE_SIZE];
    s_series_t *first, *last;        /* render order, under owner->mutex */
    size_t nseries;                  /* under owner->mutex */
    pl_metric_t *next;
};

/* Label values can come from outside (a source name, a peer): past this many series a metric
 * folds new label sets into one whose every value is "other", so that /metrics stays small
 * whatever a caller sends. */
#define S_MAX_SERIES 1000
#define S_MAX_OTHER_KEY 256

struct pl_metrics {
    pthread_mutex_t mutex;
    pl_metric_t *first, *last;
};

static const double s_default_bounds[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

/* ---------------------------------------------------------------------------------------- */
/* Doubles in atomic words */

static inline uint64_t
s_bits (double v)
{
    uint64_t b;
    memcpy (&b, &v, sizeof b);
    return b;
}

static inline double
s_double (uint64_t b)
{
    double v;
    memcpy (&v, &b, sizeof v);
    return v;
}

static void
s_atomic_add (_Atomic uint64_t *cell, double by)
{
    uint64_t old = atomic_load_explicit (cell, memory_order_relaxed);
    uint64_t new;
    do
        new = s_bits (s_double (old) + by);
    while (!atomic_compare_exchange_weak_explicit (cell, &old, new, memory_order_relaxed,
                                                   memory_order_relaxed));
}

/* ---------------------------------------------------------------------------------------- */
/* Names and label lists */

static bool
s_valid_name (const char *s, bool metric)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
                     || (metric && c == ':');
        bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && p != s))
            return false;
    }
    return true;
}

static void
s_free_list (char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free (list[i]);
    free (list);
}

/* Splits "a,b,c" into a malloc'd array of n strings. An empty or NULL text gives n = 0. */
static char **
s_split (const char *text, size_t *n_out)
{
    *n_out = 0;
    if (!text || !*text)
        return NULL;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        if (*p == ',')
            n++;
    char **list = calloc (n, sizeof *list);
    if (!list)
        return NULL;
    const char *start = text;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr (start, ',');
        size_t len = end ? (size_t) (end - start) : strlen (start);
        list[i] = strndup (start, len);
        if (!list[i]) {
            s_free_list (list, i);
            return NULL;
        }
        start = end ? end + 1 : start + len;
    }
    *n_out = n;
    return list;
}

/* ---------------------------------------------------------------------------------------- */
/* Registry */

pl_metrics_t *
pl_metrics_new (void)
{
    pl_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

static void
s_series_free (s_series_t *s, size_t n_labels)
{
    s_free_list (s->values, n_labels);
    free (s->key);
    free ((void *) s->buckets);
    free (s);
}

static void
s_metric_free (pl_metric_t *m)
{
    s_series_t *s = m->first;
    while (s) {
        s_series_t *next = s->next;
        s_series_free (s, m->n_labels);
        s = next;
    }
    s_free_list (m->labels, m->n_labels);
    free (m->label_spec);
    free (m->bounds);
    free (m->name);
    free (m->help);
    free (m);
}

void
pl_metrics_destroy (pl_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_metrics_t *self = *self_p;
    pl_metric_t *m = self->first;
    while (m) {
        pl_metric_t *next = m->next;
        s_metric_free (m);
        m = next;
    }
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

static uint64_t
s_hash (const char *key)
{
    uint64_t h = 14695981039346656037ULL;        /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static s_series_t *
s_chain_find (s_series_t *head, const char *key)
{
    for (s_series_t *s = head; s; s = s->hnext)
        if (strcmp (s->key, key) == 0)
            return s;
    return NULL;
}

/* Builds and publishes a series; caller holds the registry mutex. NULL when the label values
 * do not match the metric's label names, or out of memory. */
static s_series_t *
s_series_create (pl_metric_t *m, const char *key, _Atomic (s_series_t *) *slot)
{
    size_t n = 0;
    char **values = s_split (key, &n);
    if (n != m->n_labels || (n > 0 && !values)) {
        s_free_list (values, n);
        return NULL;
    }
    s_series_t *s = calloc (1, sizeof *s);
    if (!s) {
        s_free_list (values, n);
        return NULL;
    }
    s->values = values;
    s->key = strdup (key);
    atomic_init (&s->bits, s_bits (0.0));
    atomic_init (&s->sum_bits, s_bits (0.0));
    if (m->type == S_HISTOGRAM) {
        s->buckets = calloc (m->n_bounds + 1, sizeof *s->buckets);
        if (s->buckets)
            for (size_t i = 0; i <= m->n_bounds; i++)
                atomic_init (&s->buckets[i], 0);
    }
    if (!s->key || (m->type == S_HISTOGRAM && !s->buckets)) {
        s_series_free (s, n);
        return NULL;
    }
    s->hnext = atomic_load_explicit (slot, memory_order_relaxed);
    atomic_store_explicit (slot, s, memory_order_release);
    if (m->last)
        m->last->next = s;
    else
        m->first = s;
    m->last = s;
    return s;
}

/* The series for label_values, created on first use. Lock-free when it exists already. */
static s_series_t *
s_series (pl_metric_t *m, const char *label_values)
{
    const char *key = label_values ? label_values : "";
    _Atomic (s_series_t *) *slot = &m->table[s_hash (key) & (S_TABLE_SIZE - 1)];
    s_series_t *s = s_chain_find (atomic_load_explicit (slot, memory_order_acquire), key);
    if (s)
        return s;
    pthread_mutex_lock (&m->owner->mutex);
    s = s_chain_find (atomic_load_explicit (slot, memory_order_acquire), key);
    if (!s && m->nseries >= S_MAX_SERIES && m->n_labels > 0) {
        char other[S_MAX_OTHER_KEY];
        size_t len = 0;
        for (size_t i = 0; i < m->n_labels && len + 7 < sizeof other; i++)
            len += (size_t) snprintf (other + len, sizeof other - len, "%sother", i ? "," : "");
        slot = &m->table[s_hash (other) & (S_TABLE_SIZE - 1)];
        s = s_chain_find (atomic_load_explicit (slot, memory_order_acquire), other);
        if (!s && (s = s_series_create (m, other, slot)))
            m->nseries++;
    }
    else if (!s && (s = s_series_create (m, key, slot)))
        m->nseries++;
    pthread_mutex_unlock (&m->owner->mutex);
    return s;
}

/* Looks up an existing series without creating it. */
static s_series_t *
s_series_peek (pl_metric_t *m, const char *label_values)
{
    const char *key = label_values ? label_values : "";
    _Atomic (s_series_t *) *slot = &m->table[s_hash (key) & (S_TABLE_SIZE - 1)];
    return s_chain_find (atomic_load_explicit (slot, memory_order_acquire), key);
}

static bool
s_same_bounds (const pl_metric_t *m, const double *bounds, size_t n)
{
    if (m->n_bounds != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (m->bounds[i] != bounds[i])
            return false;
    return true;
}

static pl_metric_t *
s_register (pl_metrics_t *self, s_type_t type, const char *name, const char *help,
            const char *label_names, const double *bounds, size_t n_bounds)
{
    if (!self || !s_valid_name (name, true))
        return NULL;
    const char *spec = label_names ? label_names : "";
    if (type == S_HISTOGRAM && (!bounds || n_bounds == 0)) {
        bounds = s_default_bounds;
        n_bounds = sizeof s_default_bounds / sizeof s_default_bounds[0];
    }
    /* A trailing +Inf bound is implied; strip it so that it is not rendered twice. */
    while (type == S_HISTOGRAM && n_bounds > 0 && isinf (bounds[n_bounds - 1])
           && bounds[n_bounds - 1] > 0)
        n_bounds--;
    for (size_t i = 0; type == S_HISTOGRAM && i < n_bounds; i++)
        if (!isfinite (bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return NULL;

    pthread_mutex_lock (&self->mutex);
    pl_metric_t *m;
    for (m = self->first; m; m = m->next)
        if (strcmp (m->name, name) == 0)
            break;
    if (m) {
        /* Registering the same metric twice returns the first handle; a clash is an error. */
        bool same = m->type == type && strcmp (m->label_spec, spec) == 0
                    && (type != S_HISTOGRAM || s_same_bounds (m, bounds, n_bounds));
        pthread_mutex_unlock (&self->mutex);
        return same ? m : NULL;
    }
    m = calloc (1, sizeof *m);
    if (!m)
        goto fail;
    m->owner = self;
    m->type = type;
    m->name = strdup (name);
    m->help = strdup (help ? help : "");
    m->label_spec = strdup (spec);
    m->labels = s_split (spec, &m->n_labels);
    if (!m->name || !m->help || !m->label_spec || (*spec && !m->labels))
        goto fail;
    for (size_t i = 0; i < m->n_labels; i++) {
        const char *l = m->labels[i];
        if (!s_valid_name (l, false) || strncmp (l, "__", 2) == 0
            || (type == S_HISTOGRAM && strcmp (l, "le") == 0))
            goto fail;
        for (size_t j = 0; j < i; j++)
            if (strcmp (m->labels[j], l) == 0)
                goto fail;
    }
    if (type == S_HISTOGRAM) {
        m->bounds = malloc (n_bounds * sizeof *m->bounds);
        if (!m->bounds)
            goto fail;
        memcpy (m->bounds, bounds, n_bounds * sizeof *m->bounds);
        m->n_bounds = n_bounds;
    }
    for (size_t i = 0; i < S_TABLE_SIZE; i++)
        atomic_init (&m->table[i], NULL);
    /* An unlabelled metric has exactly one series: create it now so that it renders as 0
     * before its first update, which is what rate() and alerts expect. */
    if (m->n_labels == 0 && !s_series_create (m, "", &m->table[s_hash ("") & (S_TABLE_SIZE - 1)]))
        goto fail;
    if (self->last)
        self->last->next = m;
    else
        self->first = m;
    self->last = m;
    pthread_mutex_unlock (&self->mutex);
    return m;
fail:
    pthread_mutex_unlock (&self->mutex);
    if (m)
        s_metric_free (m);
    return NULL;
}

pl_metric_t *
pl_metrics_counter (pl_metrics_t *self, const char *name, const char *help,
                    const char *label_names)
{
    return s_register (self, S_COUNTER, name, help, label_names, NULL, 0);
}

pl_metric_t *
pl_metrics_gauge (pl_metrics_t *self, const char *name, const char *help, const char *label_names)
{
    return s_register (self, S_GAUGE, name, help, label_names, NULL, 0);
}

pl_metric_t *
pl_metrics_histogram (pl_metrics_t *self, const char *name, const char *help,
                      const char *label_names, const double *bounds, size_t n)
{
    return s_register (self, S_HISTOGRAM, name, help, label_names, bounds, n);
}

/* ---------------------------------------------------------------------------------------- */
/* Updates */

void
pl_metric_inc (pl_metric_t *m, const char *label_values, double by)
{
    if (!m || m->type == S_HISTOGRAM || isnan (by))
        return;
    if (m->type == S_COUNTER && by < 0)
        return;                      /* counters only go up */
    s_series_t *s = s_series (m, label_values);
    if (s)
        s_atomic_add (&s->bits, by);
}

void
pl_metric_set (pl_metric_t *m, const char *label_values, double value)
{
    if (!m || m->type != S_GAUGE)
        return;
    s_series_t *s = s_series (m, label_values);
    if (s)
        atomic_store_explicit (&s->bits, s_bits (value), memory_order_relaxed);
}

void
pl_metric_observe (pl_metric_t *m, const char *label_values, double value)
{
    if (!m || m->type != S_HISTOGRAM || isnan (value))
        return;
    s_series_t *s = s_series (m, label_values);
    if (!s)
        return;
    size_t i = 0;
    while (i < m->n_bounds && value > m->bounds[i])
        i++;
    atomic_fetch_add_explicit (&s->buckets[i], 1, memory_order_relaxed);
    s_atomic_add (&s->sum_bits, value);
}

double
pl_metric_value (pl_metric_t *m, const char *label_values)
{
    if (!m)
        return 0;
    s_series_t *s = s_series_peek (m, label_values);
    if (!s)
        return 0;
    if (m->type != S_HISTOGRAM)
        return s_double (atomic_load_explicit (&s->bits, memory_order_relaxed));
    uint64_t count = 0;
    for (size_t i = 0; i <= m->n_bounds; i++)
        count += atomic_load_explicit (&s->buckets[i], memory_order_relaxed);
    return (double) count;
}

double
pl_metric_sum (pl_metric_t *m, const char *label_values)
{
    if (!m || m->type != S_HISTOGRAM)
        return 0;
    s_series_t *s = s_series_peek (m, label_values);
    return s ? s_double (atomic_load_explicit (&s->sum_bits, memory_order_relaxed)) : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Rendering */

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} s_buf_t;

static void
s_put (s_buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *data = realloc (b->data, cap);
        if (!data) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
s_puts (s_buf_t *b, const char *s)
{
    s_put (b, s, strlen (s));
}

/* Appends s escaped for a HELP line (\\ and \n) or a label value (also \"). */
static void
s_put_escaped (s_buf_t *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            s_puts (b, "\\\\");
        else if (*s == '\n')
            s_puts (b, "\\n");
        else if (*s == '"' && quote)
            s_puts (b, "\\\"");
        else
            s_put (b, s, 1);
    }
}

/* Shortest decimal text that reads back as the same double; Prometheus spellings for the
 * special values. */
static void
s_fmt_double (char *out, size_t size, double v)
{
    if (isnan (v)) {
        snprintf (out, size, "NaN");
        return;
    }
    if (isinf (v)) {
        snprintf (out, size, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf (out, size, "%.*g", precision, v);
        if (strtod (out, NULL) == v)
            return;
    }
}

/* Writes "{a="x",b="y"" plus le when given, closing brace included. Nothing when empty. */
static void
s_put_labels (s_buf_t *b, const pl_metric_t *m, const s_series_t *s, const char *le)
{
    if (m->n_labels == 0 && !le)
        return;
    s_puts (b, "{");
    for (size_t i = 0; i < m->n_labels; i++) {
        if (i > 0)
            s_puts (b, ",");
        s_puts (b, m->labels[i]);
        s_puts (b, "=\"");
        s_put_escaped (b, s->values[i], true);
        s_puts (b, "\"");
    }
    if (le) {
        if (m->n_labels > 0)
            s_puts (b, ",");
        s_puts (b, "le=\"");
        s_puts (b, le);
        s_puts (b, "\"");
    }
    s_puts (b, "}");
}

/* One sample line: the name with its suffix ("", "_bucket", "_sum", "_count"), the labels
 * (and le when given), the value. */
static void
s_put_sample (s_buf_t *b, const pl_metric_t *m, const s_series_t *s, const char *suffix,
              const char *le, const char *value)
{
    s_puts (b, m->name);
    s_puts (b, suffix);
    s_put_labels (b, m, s, le);
    s_puts (b, " ");
    s_puts (b, value);
    s_puts (b, "\n");
}

static void
s_render_histogram (s_buf_t *b, const pl_metric_t *m, const s_series_t *s)
{
    uint64_t cumulative = 0;
    char le[40], num[40];
    for (size_t i = 0; i <= m->n_bounds; i++) {
        cumulative += atomic_load_explicit (&s->buckets[i], memory_order_relaxed);
        if (i < m->n_bounds)
            s_fmt_double (le, sizeof le, m->bounds[i]);
        else
            snprintf (le, sizeof le, "+Inf");
        snprintf (num, sizeof num, "%llu", (unsigned long long) cumulative);
        s_put_sample (b, m, s, "_bucket", le, num);
    }
    s_fmt_double (num, sizeof num,
                  s_double (atomic_load_explicit (&s->sum_bits, memory_order_relaxed)));
    s_put_sample (b, m, s, "_sum", NULL, num);
    snprintf (num, sizeof num, "%llu", (unsigned long long) cumulative);
    s_put_sample (b, m, s, "_count", NULL, num);
}

char *
pl_metrics_render (pl_metrics_t *self)
{
    static const char *type_names[] = { "counter", "gauge", "histogram" };
    s_buf_t b = { 0 };
    s_puts (&b, "");                 /* an empty registry renders as "" rather than NULL */
    if (!self)
        return b.data;
    pthread_mutex_lock (&self->mutex);
    for (const pl_metric_t *m = self->first; m; m = m->next) {
        s_puts (&b, "# HELP ");
        s_puts (&b, m->name);
        s_puts (&b, " ");
        s_put_escaped (&b, m->help, false);
        s_puts (&b, "\n# TYPE ");
        s_puts (&b, m->name);
        s_puts (&b, " ");
        s_puts (&b, type_names[m->type]);
        s_puts (&b, "\n");
        for (const s_series_t *s = m->first; s; s = s->next) {
            if (m->type == S_HISTOGRAM) {
                s_render_histogram (&b, m, s);
                continue;
            }
            char num[40];
            s_fmt_double (num, sizeof num,
                          s_double (atomic_load_explicit (&s->bits, memory_order_relaxed)));
            s_put_sample (&b, m, s, "", NULL, num);
        }
    }
    pthread_mutex_unlock (&self->mutex);
    if (b.failed) {
        free (b.data);
        return NULL;
    }
    return b.data;
}
