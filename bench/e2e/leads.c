/*  leads.c — bench_e2e's leads (see leads.h).
 */
#include "leads.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

static void
s_put (lb_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start (ap, fmt);
        int n = vsnprintf (b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
        va_end (ap);
        if (n < 0)
            abort ();
        if (b->data && (size_t) n < b->cap - b->len) {
            b->len += (size_t) n;
            return;
        }
        size_t cap = b->cap * 2 + 65536 + (size_t) n;
        char *d = realloc (b->data, cap);
        if (!d)
            abort ();
        b->data = d;
        b->cap = cap;
    }
}

void
lb_free (lb_buf_t *b)
{
    free (b->data);
    *b = (lb_buf_t) { 0 };
}

typedef struct {
    char phone[32], xid[24], acct[24], email[64], addr[64], zip[8];
    const char *first, *last;
    long balance;
} s_lead_t;

/* Lead i, deterministic: its number in one of the forms US CRMs write. */
static void
s_lead (size_t i, s_lead_t *l)
{
    static const char *first[] = { "Jordan", "Maria", "James", "Aisha", "Wei", "Carlos", "Emily", "Noah",
                                    "Fatima", "Liam", "Sofia", "Dmitri" };
    static const char *last[] = { "Smith", "Garcia", "Johnson", "Nguyen", "Williams", "Brown", "O'Neil",
                                  "Rodriguez", "Kowalski", "Chen" };
    static const char *streets[] = { "Fifth Avenue", "Broadway", "Atlantic Avenue", "Grand Concourse",
                                     "Queens Boulevard", "West 42nd Street" };
    static const char *zips[] = { "10118", "10001", "11201", "10451", "11375", "10036" };
    char e[24];
    fx_number (i, e);                    /* +1NPANXXXXXX */
    uint64_t h = (uint64_t) i * 0x9E3779B97F4A7C15ULL;
    switch (h >> 61) {
    case 0: case 1: case 2:
        snprintf (l->phone, sizeof l->phone, "(%.3s) %.3s-%.4s", e + 2, e + 5, e + 8);
        break;
    case 3: case 4:
        snprintf (l->phone, sizeof l->phone, "+1 %.3s %.3s %.4s", e + 2, e + 5, e + 8);
        break;
    case 5:
        snprintf (l->phone, sizeof l->phone, "1-%.3s-%.3s-%.4s", e + 2, e + 5, e + 8);
        break;
    case 6:
        snprintf (l->phone, sizeof l->phone, "%.3s.%.3s.%.4s", e + 2, e + 5, e + 8);
        break;
    default:
        snprintf (l->phone, sizeof l->phone, "%.10s", e + 2);
        break;
    }
    l->first = first[(h >> 8) % 12];
    l->last = last[(h >> 16) % 10];
    snprintf (l->addr, sizeof l->addr, "%u %s", (unsigned) (1 + (h >> 24) % 900), streets[(h >> 34) % 6]);
    snprintf (l->zip, sizeof l->zip, "%s", zips[(h >> 40) % 6]);
    snprintf (l->xid, sizeof l->xid, "CRM-%08zu", i);
    snprintf (l->acct, sizeof l->acct, "ACC-%010zu", i);
    snprintf (l->email, sizeof l->email, "debtor%zu@example.com", i);
    l->balance = 12500 + (long) ((h >> 20) % 900000);
}

void
lb_csv (lb_buf_t *b, size_t from, size_t to)
{
    s_put (b, "CRM ID,Last name,First name,Phone,Address,ZIP,State,Country,Email,Account ref,Creditor,Balance,"
              "Currency\r\n");
    s_lead_t l;
    for (size_t i = from; i < to; i++) {
        s_lead (i, &l);
        s_put (b, "%s,\"%s\",%s,%s,%s,%s,NY,US,%s,%s,Acme Bank,%ld,USD\r\n", l.xid, l.last, l.first, l.phone,
               l.addr, l.zip, l.email, l.acct, l.balance);
    }
}

void
lb_json (lb_buf_t *b, size_t from, size_t to)
{
    s_put (b, "{\"leads\":[");
    s_lead_t l;
    for (size_t i = from; i < to; i++) {
        s_lead (i, &l);
        s_put (b,
               "%s{\"external_id\":\"%s\",\"phone\":\"%s\",\"country\":\"US\",\"first_name\":\"%s\","
               "\"last_name\":\"%s\",\"address\":\"%s\",\"postal_code\":\"%s\",\"state\":\"NY\",\"email\":\"%s\","
               "\"debt\":{\"account_ref\":\"%s\",\"creditor\":\"Acme Bank\",\"balance\":%ld,\"currency\":\"USD\"}}",
               i > from ? "," : "", l.xid, l.phone, l.first, l.last, l.addr, l.zip, l.email, l.acct, l.balance);
    }
    s_put (b, "]}");
}
