/*  http_keys.c — the signing sources and their secrets, from a signing keys file (see http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"
#include "plateau/http.h"

typedef struct {
    char *source, *secret;
} s_key_t;

struct pl_http_keys {
    s_key_t *keys;
    size_t n;
};

pl_http_keys_t *
pl_http_keys_new (void)
{
    return calloc (1, sizeof (pl_http_keys_t));
}

void
pl_http_keys_destroy (pl_http_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_http_keys_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        explicit_bzero (self->keys[i].secret, strlen (self->keys[i].secret));
        free (self->keys[i].secret);
        free (self->keys[i].source);
    }
    free (self->keys);
    free (self);
    *self_p = NULL;
}

int
pl_http_keys_parse (pl_http_keys_t *self, const char *text, char *err, size_t err_size)
{
    char *copy = strdup (text ? text : "");
    if (!copy)
        return PL_ENOMEM;
    size_t len = strlen (copy), n0 = self->n;
    int line = 0, rc = 0;
    /* Lines counted by hand: strtok would fold empty lines and misnumber the error. */
    for (char *l = copy, *end; l && rc == 0; l = end ? end + 1 : NULL) {
        end = strchr (l, '\n');
        if (end)
            *end = '\0';
        line++;
        while (*l == ' ' || *l == '\t')
            l++;
        size_t n = strlen (l);
        while (n && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
            l[--n] = '\0';
        if (!*l || *l == '#')
            continue;
        char *colon = strchr (l, ':');
        if (!colon || colon == l || strlen (colon + 1) < 16) {
            snprintf (err, err_size, "line %d: expected source:secret (secret of 16 bytes or more)", line);
            rc = PL_EINVAL;
            break;
        }
        *colon = '\0';
        s_key_t *k = realloc (self->keys, (self->n + 1) * sizeof *k);
        if (!k) {
            rc = PL_ENOMEM;
            break;
        }
        self->keys = k;
        k[self->n].source = strdup (l);
        k[self->n].secret = strdup (colon + 1);
        if (!k[self->n].source || !k[self->n].secret) {
            free (k[self->n].source);
            free (k[self->n].secret);
            rc = PL_ENOMEM;
            break;
        }
        self->n++;
    }
    explicit_bzero (copy, len);
    free (copy);
    if (rc != 0)                  /* nothing of a bad file is kept */
        while (self->n > n0) {
            self->n--;
            explicit_bzero (self->keys[self->n].secret, strlen (self->keys[self->n].secret));
            free (self->keys[self->n].secret);
            free (self->keys[self->n].source);
        }
    return rc;
}

const char *
pl_http_keys_secret (const pl_http_keys_t *self, const char *source, size_t *len)
{
    return pl_http_keys_nth (self, source, 0, len);
}

const char *
pl_http_keys_nth (const pl_http_keys_t *self, const char *source, unsigned nth, size_t *len)
{
    for (size_t i = 0; self && source && i < self->n; i++)
        if (strcmp (self->keys[i].source, source) == 0 && nth-- == 0) {
            if (len)
                *len = strlen (self->keys[i].secret);
            return self->keys[i].secret;
        }
    if (len)
        *len = 0;
    return NULL;
}

size_t
pl_http_keys_count (const pl_http_keys_t *self)
{
    return self ? self->n : 0;
}
