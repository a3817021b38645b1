/*  leads.h — the leads bench_e2e sends to plateau-intake: US debt collection leads as a CRM
 *  exports them (New York numbers in their usual written forms, names, addresses, ZIP codes, a
 *  debt), as CSV rows or JSON batch items. Lead i has the number fx_number (i): distinct for
 *  every i, so that none is a duplicate of another within the dedupe window.
 */
#ifndef BENCH_E2E_LEADS_H
#define BENCH_E2E_LEADS_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len, cap;
} lb_buf_t;

/* A CSV body (header row, then leads [from, to)); a JSON batch {"leads":[…]} of the same.
 * Abort the process when memory runs out (a bench has nothing better to do). */
void lb_csv (lb_buf_t *b, size_t from, size_t to);
void lb_json (lb_buf_t *b, size_t from, size_t to);
void lb_free (lb_buf_t *b);

#endif
