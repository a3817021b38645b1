/*  bundle.c — reads the simulation's input bundle (tools/simgen/README.md): campaign files, leads,
 *  registry copies, internal opt-outs and consent revocations.
 */
#include "check_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* True when the blank-separated list v holds word (a campaign's `callees`, word by
 * word as the rules engine reads it: "non-business" is not "business"). */
static bool
s_has_word (const char *v, const char *word)
{
    size_t n = strlen (word);
    for (const char *p = v; *p;) {
        p += strspn (p, " \t");
        size_t w = strcspn (p, " \t");
        if (w == n && strncmp (p, word, n) == 0)
            return true;
        p += w;
    }
    return false;
}

static int __attribute__ ((format (printf, 2, 3)))
s_fail (pl_check_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->err, sizeof self->err, fmt, ap);
    va_end (ap);
    return -1;
}

static char *
s_trim (char *s)
{
    while (isspace ((unsigned char) *s))
        s++;
    size_t n = strlen (s);
    while (n && isspace ((unsigned char) s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* A number as E.164 when it is one after removing separators; otherwise as given. */
static void
s_e164 (const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < size; p++)
        if (isdigit ((unsigned char) *p) || (*p == '+' && o == 0))
            out[o++] = *p;
    out[o] = '\0';
}

/* ---- campaigns ------------------------------------------------------------------------------ */

static int
s_campaign_file (pl_check_t *self, const char *dir, const char *fname)
{
    if (self->n_campaigns == (int) (sizeof self->campaigns / sizeof self->campaigns[0]))
        return s_fail (self, "%s: too many campaigns", dir);
    char path[2048];
    snprintf (path, sizeof path, "%s/%s", dir, fname);
    FILE *f = fopen (path, "r");
    if (!f)
        return s_fail (self, "%s: %s", path, strerror (errno));
    ck_campaign_t *c = &self->campaigns[self->n_campaigns++];
    memset (c, 0, sizeof *c);
    c->file = strndup (fname, strlen (fname) - strlen (".campaign"));
    c->budget_ppm = 30000;      /* 3 %: us.abandon, uk.abandon */
    c->abandon = json_array ();
    char line[1024], section[128] = "";
    while (fgets (line, sizeof line, f)) {
        char *hash = strchr (line, '#');
        char *semi = strchr (line, ';');
        if (hash)
            *hash = '\0';
        if (semi)
            *semi = '\0';
        char *s = s_trim (line);
        if (*s == '[') {
            snprintf (section, sizeof section, "%s", s);
            continue;
        }
        char *eq = strchr (s, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *k = s_trim (s), *v = s_trim (eq + 1);
        if (strcmp (section, "[campaign]") == 0) {
            if (strcmp (k, "profile") == 0)
                c->profile_id = strdup (v);
            else if (strcmp (k, "tenant") == 0)
                c->tenant = strdup (v);
            else if (strcmp (k, "name") == 0)
                c->name = strdup (v);
            else if (strcmp (k, "sector") == 0)
                c->sector = strdup (v);
            else if (strcmp (k, "callees") == 0)
                c->for_business = s_has_word (v, "business");
        } else if (strcmp (section, "[dialer]") == 0) {
            if (strcmp (k, "abandon-target") == 0)
                c->budget_ppm = (int) (strtod (v, NULL) * 10000 + 0.5);
            else if (strcmp (k, "amd") == 0)
                c->amd = strcmp (v, "yes") == 0;
        }
    }
    fclose (f);
    if (!c->name)
        c->name = strdup (c->file);
    c->profile = ck_profile (c->profile_id);
    if (!c->profile || !c->tenant)
        return s_fail (self, "%s: no profile the checker knows, or no tenant", path);
    return 0;
}

static int
s_name_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
s_campaigns (pl_check_t *self, const char *root)
{
    char dir[1536];
    snprintf (dir, sizeof dir, "%s/campaigns", root);
    DIR *d = opendir (dir);
    if (!d)
        return s_fail (self, "%s: %s", dir, strerror (errno));
    struct dirent *e;
    char *names[16];
    int n = 0, rc = 0;
    while ((e = readdir (d)) && n < 16) {
        size_t l = strlen (e->d_name);
        if (l > 9 && strcmp (e->d_name + l - 9, ".campaign") == 0)
            names[n++] = strdup (e->d_name);
    }
    closedir (d);
    qsort (names, (size_t) n, sizeof *names, s_name_cmp);
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = s_campaign_file (self, dir, names[i]);
        free (names[i]);
    }
    if (rc == 0 && self->n_campaigns == 0)
        return s_fail (self, "%s: no campaign files", dir);
    return rc;
}

/* ---- leads ---------------------------------------------------------------------------------- */

static char *
s_jstr (json_t *o, const char *k)
{
    json_t *v = json_object_get (o, k);
    if (json_is_string (v))
        return strdup (json_string_value (v));
    if (json_is_integer (v)) {
        char b[32];
        snprintf (b, sizeof b, "%lld", (long long) json_integer_value (v));
        return strdup (b);
    }
    return strdup ("");
}

static int64_t
s_jtime (json_t *o, const char *k)
{
    json_t *v = json_object_get (o, k);
    int64_t ms = 0;
    if (json_is_integer (v))
        return json_integer_value (v);
    if (json_is_string (v) && ck_parse_time (json_string_value (v), &ms) == 0)
        return ms;
    return 0;
}

static void
s_add_phone (pl_check_t *self, ck_lead_t *l, size_t idx, const char *raw)
{
    if (!raw || l->n_phones == CK_MAX_PHONES)
        return;
    char e[64];
    s_e164 (raw, e, sizeof e);
    l->phones[l->n_phones++] = strdup (e);
    if (e[0] == '+' && ck_map_get (&self->lead_by_number, e) < 0)
        ck_map_put (&self->lead_by_number, e, (int64_t) idx);
}

static int
s_lead (pl_check_t *self, json_t *o, const char *stem)
{
    if (ck_grow (&self->leads, &self->cap_leads, self->n_leads, sizeof *self->leads) != 0)
        return s_fail (self, "out of memory");
    size_t idx = self->n_leads++;
    ck_lead_t *l = &self->leads[idx];
    memset (l, 0, sizeof *l);
    char *camp = s_jstr (o, "campaign");
    ck_campaign_t *c = ck_campaign (self, *camp ? camp : stem);
    free (camp);
    l->campaign = c ? (int) (c - self->campaigns) : -1;
    l->ext = s_jstr (o, "external_id");
    l->country = s_jstr (o, "country");
    l->postal = s_jstr (o, "postal_code");
    l->state = s_jstr (o, "state");
    const char *callee = json_string_value (json_object_get (o, "callee"));
    l->business = callee && strcasecmp (callee, "business") == 0;      /* as the intake reads it */
    json_t *debt = json_object_get (o, "debt");
    l->debt = json_is_object (debt) ? s_jstr (debt, "account_ref") : strdup ("");
    json_t *phone = json_object_get (o, "phone");
    s_add_phone (self, l, idx, json_string_value (phone));
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (o, "alt_phones"), i, v)
        s_add_phone (self, l, idx, json_string_value (v));
    json_array_foreach (json_object_get (o, "consents"), i, v) {
        if (l->n_consents < CK_MAX_CONSENTS && json_is_object (v))
            l->consents[l->n_consents++] = (ck_consent_t) {s_jtime (v, "captured_at"),
                                                           s_jtime (v, "revoked_at")};
    }
    if (c) {
        c->leads++;
        c->business_leads += l->business && c->for_business && c->profile->b2b_rule;
        char key[512];
        snprintf (key, sizeof key, "%s\x1f%s", c->name, l->ext);
        ck_map_put (&self->lead_by_ext, key, (int64_t) idx);
    }
    return 0;
}

/* Calls fn for each JSON object line of path; a missing optional file is no error. */
static int
s_ndjson (pl_check_t *self, const char *path, bool optional, const char *stem,
          int (*fn) (pl_check_t *, json_t *, const char *))
{
    FILE *f = fopen (path, "r");
    if (!f)
        return optional && errno == ENOENT ? 0 : s_fail (self, "%s: %s", path, strerror (errno));
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    int rc = 0;
    while (rc == 0 && getline (&line, &cap, f) > 0) {
        no++;
        if (!*s_trim (line))
            continue;
        json_error_t je;
        json_t *o = json_loads (line, 0, &je);
        if (!json_is_object (o)) {
            rc = s_fail (self, "%s:%ld: not a JSON object", path, no);
        } else
            rc = fn (self, o, stem);
        json_decref (o);
    }
    free (line);
    fclose (f);
    return rc;
}

static int
s_leads (pl_check_t *self, const char *root)
{
    char dir[1536];
    snprintf (dir, sizeof dir, "%s/leads", root);
    DIR *d = opendir (dir);
    if (!d)
        return s_fail (self, "%s: %s", dir, strerror (errno));
    struct dirent *e;
    char *names[16];
    int n = 0, rc = 0;
    while ((e = readdir (d)) && n < 16) {
        size_t l = strlen (e->d_name);
        if (l > 7 && strcmp (e->d_name + l - 7, ".ndjson") == 0)
            names[n++] = strdup (e->d_name);
    }
    closedir (d);
    qsort (names, (size_t) n, sizeof *names, s_name_cmp);
    for (int i = 0; i < n; i++) {
        char path[2048], stem[256];
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        snprintf (stem, sizeof stem, "%.*s", (int) (strlen (names[i]) - 7), names[i]);
        if (rc == 0)
            rc = s_ndjson (self, path, false, stem, s_lead);
        free (names[i]);
    }
    return rc;
}

/* ---- lists ---------------------------------------------------------------------------------- */

static int
s_list_file (pl_check_t *self, ck_list_t *l, const char *format, const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return s_fail (self, "%s: %s", path, strerror (errno));
    char line[256];
    while (fgets (line, sizeof line, f)) {
        char *s = s_trim (line), d[64], e164[72];
        if (!*s || *s == '#')
            continue;
        s_e164 (s, d, sizeof d);
        if (d[0] == '+')
            snprintf (e164, sizeof e164, "%s", d);
        else if (strcmp (format, "us-dnc") == 0 && strlen (d) == 10)
            snprintf (e164, sizeof e164, "+1%s", d);
        else if (strcmp (format, "tps") == 0 && d[0] == '0' && strlen (d) >= 10)
            snprintf (e164, sizeof e164, "+44%s", d + 1);
        else if (strcmp (format, "bloctel") == 0 && d[0] == '0' && strlen (d) == 10)
            snprintf (e164, sizeof e164, "+33%s", d + 1);
        else
            continue;           /* scrub refuses or skips such a line too */
        ck_map_put (&l->numbers, e164, 1);
    }
    fclose (f);
    return 0;
}

static int
s_lists (pl_check_t *self, const char *root)
{
    char path[1536];
    snprintf (path, sizeof path, "%s/lists/manifest.tsv", root);
    FILE *f = fopen (path, "r");
    if (!f)
        return errno == ENOENT ? 0 : s_fail (self, "%s: %s", path, strerror (errno));
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        char *col[5], *save = NULL;
        int n = 0;
        for (char *t = strtok_r (line, "\t\r\n", &save); t && n < 5; t = strtok_r (NULL, "\t\r\n", &save))
            col[n++] = t;
        if (n == 0 || col[0][0] == '#')
            continue;
        if (n != 5 || ck_date_ms (col[3]) < 0
            || self->n_lists == (int) (sizeof self->lists / sizeof self->lists[0])) {
            rc = s_fail (self, "%s: bad line '%s'", path, col[0]);
            break;
        }
        ck_list_t *l = &self->lists[self->n_lists++];
        memset (l, 0, sizeof *l);
        l->name = strdup (col[0]);
        l->jurisdiction = strdup (col[1]);
        l->taken = ck_date_ms (col[3]);
        char file[2048];
        snprintf (file, sizeof file, "%s/lists/%s", root, col[4]);
        rc = s_list_file (self, l, col[2], file);
    }
    fclose (f);
    return rc;
}

/* ---- opt-outs, revocations, manifest -------------------------------------------------------- */

static int
s_optout (pl_check_t *self, json_t *o, const char *stem)
{
    char *number = s_jstr (o, "number"), *tenant = s_jstr (o, "tenant"),
         *debt = s_jstr (o, "debt_ref"), e[64];
    s_e164 (number, e, sizeof e);
    int rc = 0;
    if (ck_grow (&self->optouts, &self->cap_optouts, self->n_optouts, sizeof *self->optouts) != 0)
        rc = s_fail (self, "out of memory");
    else {
        ck_optout_t *x = &self->optouts[self->n_optouts];
        *x = (ck_optout_t) {ck_intern (self, e), ck_intern (self, tenant), ck_intern (self, debt),
                            ck_intern (self, *tenant ? "tenant" : "all"),
                            s_jtime (o, "requested_at"), 0, ck_map_get (&self->optout_head, e)};
        ck_map_put (&self->optout_head, e, (int64_t) self->n_optouts++);
    }
    free (number);
    free (tenant);
    free (debt);
    return rc;
}

static int
s_revocation (pl_check_t *self, json_t *o, const char *stem)
{
    char *ext = s_jstr (o, "external_id"), *camp = s_jstr (o, "campaign"), key[512];
    ck_campaign_t *c = ck_campaign (self, camp);
    snprintf (key, sizeof key, "%s\x1f%s", c ? c->name : camp, ext);
    int64_t i = ck_map_get (&self->lead_by_ext, key);
    int64_t at = s_jtime (o, "at");
    if (i >= 0 && at > 0 && (!self->leads[i].revoked_at || at < self->leads[i].revoked_at))
        self->leads[i].revoked_at = at;
    free (ext);
    free (camp);
    return 0;
}

static int
s_manifest (pl_check_t *self, json_t *o, const char *stem)
{
    self->start = ck_date_ms (json_string_value (json_object_get (o, "start")));
    return 0;
}

int
ck_bundle_load (pl_check_t *self, const char *dir)
{
    char path[1536];
    int rc = s_campaigns (self, dir);
    if (rc == 0)
        rc = s_leads (self, dir);
    if (rc == 0)
        rc = s_lists (self, dir);
    snprintf (path, sizeof path, "%s/optouts.ndjson", dir);
    if (rc == 0)
        rc = s_ndjson (self, path, true, "", s_optout);
    snprintf (path, sizeof path, "%s/consent-revocations.ndjson", dir);
    if (rc == 0)
        rc = s_ndjson (self, path, true, "", s_revocation);
    if (rc == 0) {
        snprintf (path, sizeof path, "%s/manifest.json", dir);
        json_t *m = json_load_file (path, 0, NULL);
        if (m)
            s_manifest (self, m, "");
        json_decref (m);
    }
    return rc;
}
