/*  cmd_keys.c — `plateauctl keys`: a deployment's credentials made, rotated and retired, and
 *  written as the Secrets and the key list ConfigMap that the manifests of deploy/ mount.
 *
 *  DIR (outside any repository) holds them as files, and DIR/credentials.yaml as Kubernetes
 *  objects, written again by every command:
 *    keys/<identity>.key|.pub     each bus identity's CURVE pair; during a rotation the one it
 *                                 replaces is keys/<identity>.old.key|.pub until retired
 *    keys/keys                    the key list, '<identity> <public key>', the newest first
 *    api-tokens                   'source:token', the newest first (every HTTP door's file)
 *    intake-signing-keys, promise-signing-keys     'source:secret', the newest first
 *    audit/                       the audit's signing, pseudonym and data keys
 *    redis-password, namespace, redis-host
 *
 *  A rotation adds the new credential beside the old one, which stays admitted (the bus admits
 *  every listed key of an identity and a client tries each against each pod; the HTTP doors
 *  take every token of a source and a signature by any of its secrets) until `retire` drops
 *  it: docs/operations.md §7 gives the order of the steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "commands.h"
#include "plateau/audit_keys.h"
#include "plateau/bus.h"

#define S_MAX_LINES 512
#define S_MAX_NAMES 64

/* The identities of the services deploy/base runs, and plateauctl's own (kept in DIR, not in
 * a Secret: it is the operator's). */
static const char *const s_services[] = { "intake", "scrub", "dialer", "promise", "audit", "notify" };
#define S_NSERVICES (sizeof s_services / sizeof s_services[0])

void
ctl_keys_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl keys gen DIR [--namespace NS] [--redis HOST:PORT] [--identity NAME]...\n"
             "                      [--source NAME]... [--signer NAME]... [--payer NAME]...\n"
             "       plateauctl keys rotate DIR bus|token|signing NAME\n"
             "       plateauctl keys retire DIR bus|token|signing NAME\n"
             "       plateauctl keys manifest DIR\n"
             "\n"
             "gen makes every credential of a deployment in DIR (a new directory, outside any\n"
             "repository; files mode 0600) and writes DIR/credentials.yaml, the Secrets and the\n"
             "key list ConfigMap the manifests of deploy/ mount (kubectl apply -n NS -f it):\n"
             "  a CURVE key pair per bus identity: intake, scrub, dialer, promise, audit, notify,\n"
             "    plateauctl (its key stays in DIR/keys), and each --identity (telsim, your own\n"
             "    services); the key list keys/keys;\n"
             "  an API token per --source (default: one source 'dev') in api-tokens, mounted at\n"
             "    every HTTP door (the services' *_SOURCES variables say who may do what);\n"
             "  a signing secret per --signer (a CRM that signs its requests to the intake) and\n"
             "    per --payer (every payment source signs at the promise service);\n"
             "  the audit's keys (audit/, plateau-audit-keys; publish audit/audit-signing.pub);\n"
             "  the notify service's reader token at the audit (source 'notify', in api-tokens and\n"
             "    notify-audit-token);\n"
             "  a Redis password and the URL redis://:<password>@HOST:PORT/0 (default redis:6379).\n"
             "\n"
             "rotate adds a new credential beside the current one, both admitted meanwhile:\n"
             "  bus NAME       a new key pair for the identity, listed first in the key list;\n"
             "  token NAME     a new token for the source;\n"
             "  signing NAME   a new secret for the signing source (intake and/or promise).\n"
             "retire drops the older one once every pod and client uses the new one. Both write\n"
             "credentials.yaml again: apply it, then roll the pods (docs/operations.md §7).\n"
             "manifest only writes credentials.yaml again from DIR.\n");
}

/* ---- files ---------------------------------------------------------------------------------- */

typedef struct {
    char *v[S_MAX_LINES];
    size_t n;
} s_lines_t;

static void
s_lines_free (s_lines_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        sodium_memzero (l->v[i], strlen (l->v[i]));
        free (l->v[i]);
    }
    l->n = 0;
}

/* Reads path's lines (without their newline); a missing file has none. 0 or -1. */
static int
s_lines_read (const char *path, s_lines_t *l)
{
    l->n = 0;
    FILE *f = fopen (path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[1024];
    while (fgets (line, sizeof line, f) && l->n < S_MAX_LINES) {
        line[strcspn (line, "\r\n")] = '\0';
        if ((l->v[l->n] = strdup (line)))
            l->n++;
    }
    sodium_memzero (line, sizeof line);
    fclose (f);
    return 0;
}

/* Writes the lines to path through a new file renamed over it, mode 0600. 0 or -1. */
static int
s_lines_write (const char *path, const s_lines_t *l)
{
    char tmp[4200];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        fprintf (f, "%s\n", l->v[i]);
    bool ok = fflush (f) == 0 && fsync (fileno (f)) == 0;
    ok = fclose (f) == 0 && ok;
    return ok && rename (tmp, path) == 0 ? 0 : -1;
}

/* Whether line is an entry of name: "name:" (tokens, secrets) or "name " (the key list). */
static bool
s_line_of (const char *line, const char *name, char sep)
{
    size_t n = strlen (name);
    return strncmp (line, name, n) == 0 && line[n] == sep;
}

static size_t
s_count_of (const s_lines_t *l, const char *name, char sep)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        k += s_line_of (l->v[i], name, sep);
    return k;
}

/* Inserts line before name's first entry (at the end when it has none). 0 or -1. */
static int
s_insert_first (s_lines_t *l, const char *name, char sep, const char *line)
{
    if (l->n >= S_MAX_LINES)
        return -1;
    size_t at = l->n;
    for (size_t i = 0; i < l->n && at == l->n; i++)
        if (s_line_of (l->v[i], name, sep))
            at = i;
    char *copy = strdup (line);
    if (!copy)
        return -1;
    memmove (&l->v[at + 1], &l->v[at], (l->n - at) * sizeof l->v[0]);
    l->v[at] = copy;
    l->n++;
    return 0;
}

/* Keeps only name's first (newest) entry. */
static void
s_keep_first (s_lines_t *l, const char *name, char sep)
{
    bool seen = false;
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (s_line_of (l->v[i], name, sep)) {
            if (seen) {
                sodium_memzero (l->v[i], strlen (l->v[i]));
                free (l->v[i]);
                continue;
            }
            seen = true;
        }
        l->v[w++] = l->v[i];
    }
    l->n = w;
}

/* The whole of a small file (a key, a password), or NULL; *len its size. */
static char *
s_slurp (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc (65536);
    size_t n = buf ? fread (buf, 1, 65535, f) : 0;
    fclose (f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static void
s_path (char *out, size_t size, const char *dir, const char *name)
{
    snprintf (out, size, "%s/%s", dir, name);
}

/* A setting kept in DIR/<name> (namespace, redis-host): its first line, or def. */
static void
s_setting (const char *dir, const char *name, const char *def, char *out, size_t size)
{
    char path[4200];
    s_path (path, sizeof path, dir, name);
    s_lines_t l;
    snprintf (out, size, "%s", def);
    if (s_lines_read (path, &l) == 0 && l.n > 0 && l.v[0][0])
        snprintf (out, size, "%s", l.v[0]);
    s_lines_free (&l);
}

static int
s_setting_write (const char *dir, const char *name, const char *value)
{
    char path[4200];
    s_path (path, sizeof path, dir, name);
    s_lines_t l = { .v = { (char *) value }, .n = 1 };
    return s_lines_write (path, &l);
}

/* Random hex of nbytes bytes into out (2 * nbytes + 1). */
static void
s_random_hex (char *out, size_t nbytes)
{
    unsigned char raw[64];
    randombytes_buf (raw, nbytes);
    sodium_bin2hex (out, 2 * nbytes + 1, raw, nbytes);
    sodium_memzero (raw, sizeof raw);
}

static bool
s_name_ok (const char *p)
{
    size_t n = strlen (p);
    if (n == 0 || n > 63)
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'
              || *p == '.' || *p == '-'))
            return false;
    return true;
}

/* A Kubernetes object name: the identity lowercased is what the Secret's name takes. */
static bool
s_dns_ok (const char *p)
{
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return false;
    return true;
}

/* A new CURVE pair keys/<name>.key|.pub (the secret created 0600). 0 or -1. */
static int
s_curve_new (const char *dir, const char *name, char pub_line[128])
{
    char pub[4200], sec[4200];
    snprintf (pub, sizeof pub, "%s/keys/%s.pub", dir, name);
    snprintf (sec, sizeof sec, "%s/keys/%s.key", dir, name);
    mode_t old = umask (077);
    int rc = pl_bus_curve_keygen (pub, sec);
    umask (old);
    if (rc != 0) {
        fprintf (stderr, "plateauctl keys: cannot write %s: %s\n", sec, strerror (errno));
        return -1;
    }
    size_t len;
    char *text = s_slurp (pub, &len);
    if (!text)
        return -1;
    text[strcspn (text, "\r\n")] = '\0';
    snprintf (pub_line, 128, "%s %s", name, text);
    free (text);
    return 0;
}

/* ---- credentials.yaml ----------------------------------------------------------------------- */

static void
s_meta (FILE *f, const char *kind, const char *name, const char *ns)
{
    fprintf (f, "---\napiVersion: v1\nkind: %s\nmetadata:\n  name: %s\n", kind, name);
    if (*ns)
        fprintf (f, "  namespace: %s\n", ns);
    fprintf (f, "  labels:\n    app.kubernetes.io/part-of: plateau\n");
}

/* One Secret, its entries base64-encoded (a CURVE key holds Z85 characters YAML would quote). */
static void
s_secret (FILE *f, const char *name, const char *ns, size_t n, const char *const *keys,
          const char *const *values, const size_t *lens)
{
    s_meta (f, "Secret", name, ns);
    fprintf (f, "type: Opaque\ndata:\n");
    for (size_t i = 0; i < n; i++) {
        size_t size = sodium_base64_ENCODED_LEN (lens[i], sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc (size);
        if (!b64)
            continue;
        sodium_bin2base64 (b64, size, (const unsigned char *) values[i], lens[i], sodium_base64_VARIANT_ORIGINAL);
        fprintf (f, "  %s: %s\n", keys[i], b64);
        sodium_memzero (b64, size);
        free (b64);
    }
}

/* A Secret of one entry read from DIR/<file>; false when the file is missing. */
static bool
s_secret_file (FILE *f, const char *dir, const char *file, const char *name, const char *key, const char *ns)
{
    char path[4200];
    s_path (path, sizeof path, dir, file);
    size_t len;
    char *text = s_slurp (path, &len);
    if (!text)
        return false;
    const char *keys[] = { key };
    const char *values[] = { text };
    s_secret (f, name, ns, 1, keys, values, &len);
    sodium_memzero (text, len);
    free (text);
    return true;
}

/* Writes DIR/credentials.yaml from DIR's files. 0, or CTL_EXIT_FAIL after saying why. */
static int
s_manifest (const char *dir)
{
    char ns[128], host[256], path[4200], tmp[4300];
    s_setting (dir, "namespace", "", ns, sizeof ns);
    s_setting (dir, "redis-host", "redis:6379", host, sizeof host);
    s_path (path, sizeof path, dir, "credentials.yaml");
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!f) {
        fprintf (stderr, "plateauctl keys: cannot write %s: %s\n", tmp, strerror (errno));
        if (fd >= 0)
            close (fd);
        return CTL_EXIT_FAIL;
    }
    fprintf (f, "# credentials.yaml — written by `plateauctl keys` from this directory: the Secrets and\n"
                "# the key list ConfigMap the manifests of deploy/ mount. Secret: never commit it.\n");
    bool ok = true;

    /* The Redis URL every service reads, and the development Redis's password. */
    char pw_path[4200];
    s_path (pw_path, sizeof pw_path, dir, "redis-password");
    s_lines_t pw;
    if (s_lines_read (pw_path, &pw) != 0 || pw.n == 0) {
        fprintf (stderr, "plateauctl keys: %s is missing\n", pw_path);
        ok = false;
    } else {
        char url[600];
        snprintf (url, sizeof url, "redis://:%s@%s/0", pw.v[0], host);
        const char *keys[] = { "url", "password" };
        const char *values[] = { url, pw.v[0] };
        size_t lens[] = { strlen (url), strlen (pw.v[0]) };
        s_secret (f, "plateau-redis", ns, 2, keys, values, lens);
        sodium_memzero (url, sizeof url);
    }
    s_lines_free (&pw);

    /* A CURVE Secret per identity of the list (plateauctl's stays here). */
    s_lines_t list;
    char list_path[4200];
    s_path (list_path, sizeof list_path, dir, "keys/keys");
    if (s_lines_read (list_path, &list) != 0 || list.n == 0) {
        fprintf (stderr, "plateauctl keys: %s is missing\n", list_path);
        ok = false;
    }
    for (size_t i = 0; i < list.n; i++) {
        char name[128];
        if (list.v[i][0] == '#' || sscanf (list.v[i], "%127s", name) != 1 || strcmp (name, "plateauctl") == 0)
            continue;
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = !s_line_of (list.v[j], name, ' ');
        if (!first)
            continue;
        char file[200], secret_name[200];
        snprintf (file, sizeof file, "keys/%s.key", name);
        snprintf (secret_name, sizeof secret_name, "plateau-curve-%s", name);
        if (!s_secret_file (f, dir, file, secret_name, "curve.key", ns)) {
            fprintf (stderr, "plateauctl keys: %s/%s is missing\n", dir, file);
            ok = false;
        }
    }
    /* API tokens: the same file at every door. */
    for (size_t i = 0; i < S_NSERVICES; i++) {
        char secret_name[200];
        snprintf (secret_name, sizeof secret_name, "plateau-%s-api-tokens", s_services[i]);
        ok = s_secret_file (f, dir, "api-tokens", secret_name, "tokens", ns) && ok;
    }
    ok = s_secret_file (f, dir, "notify-audit-token", "plateau-notify-audit-token", "token", ns) && ok;
    /* Signing secrets: an empty file is a valid one (nobody signs). */
    ok = s_secret_file (f, dir, "intake-signing-keys", "plateau-intake-signing-keys", "keys", ns) && ok;
    ok = s_secret_file (f, dir, "promise-signing-keys", "plateau-promise-signing-keys", "keys", ns) && ok;
    /* The audit's keys. */
    {
        const char *files[] = { "audit/audit-signing.key", "audit/audit-pseudonym.key", "audit/audit-data.key" };
        const char *keys[] = { "signing.key", "pseudonym.key", "data.key" };
        char *values[3] = { NULL };
        size_t lens[3] = { 0 };
        for (int i = 0; i < 3; i++) {
            char p[4200];
            s_path (p, sizeof p, dir, files[i]);
            if (!(values[i] = s_slurp (p, &lens[i]))) {
                fprintf (stderr, "plateauctl keys: %s is missing\n", p);
                ok = false;
            }
        }
        if (values[0] && values[1] && values[2])
            s_secret (f, "plateau-audit-keys", ns, 3, keys, (const char *const *) values, lens);
        for (int i = 0; i < 3; i++) {
            if (values[i])
                sodium_memzero (values[i], lens[i]);
            free (values[i]);
        }
    }
    /* The key list: public, a ConfigMap every service mounts and reads again when it changes. */
    s_meta (f, "ConfigMap", "plateau-bus-keys", ns);
    fprintf (f, "data:\n  keys: |\n");
    for (size_t i = 0; i < list.n; i++)
        fprintf (f, "    %s\n", list.v[i]);
    s_lines_free (&list);

    ok = fflush (f) == 0 && fsync (fileno (f)) == 0 && ok;
    ok = fclose (f) == 0 && ok;
    if (!ok || rename (tmp, path) != 0) {
        unlink (tmp);
        fprintf (stderr, "plateauctl keys: %s not written\n", path);
        return CTL_EXIT_FAIL;
    }
    printf ("wrote %s\n", path);
    return CTL_EXIT_OK;
}

/* ---- gen ------------------------------------------------------------------------------------ */

typedef struct {
    const char *v[S_MAX_NAMES];
    size_t n;
} s_names_t;

static int
s_names_add (s_names_t *names, const char *flag, const char *name)
{
    if (!s_name_ok (name))
        return ctl_usage_error ("keys", "%s '%s': expected letters, digits, '.', '_' or '-' (63 at most)", flag,
                                name);
    for (size_t i = 0; i < names->n; i++)
        if (strcmp (names->v[i], name) == 0)
            return ctl_usage_error ("keys", "%s '%s' given twice", flag, name);
    if (names->n == S_MAX_NAMES)
        return ctl_usage_error ("keys", "%s: at most %d", flag, S_MAX_NAMES);
    names->v[names->n++] = name;
    return 0;
}

static int
s_gen (int argc, char **argv)
{
    const char *dir = ctl_positional (argc, argv, 0);
    if (!dir)
        return ctl_usage_error ("keys", "gen: expected the directory to write (outside any repository)");
    s_names_t ids = { 0 }, sources = { 0 }, signers = { 0 }, payers = { 0 };
    const char *ns = "", *redis = "redis:6379";
    for (size_t i = 0; i < S_NSERVICES; i++)
        ids.v[ids.n++] = s_services[i];
    ids.v[ids.n++] = "plateauctl";
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' || argv[i][1] != '-')
            continue;
        if (i + 1 >= argc)
            return ctl_usage_error ("keys", "%s: expected a value", argv[i]);
        const char *flag = argv[i], *v = argv[++i];
        int rc = 0;
        if (strcmp (flag, "--identity") == 0) {
            if (!s_dns_ok (v))
                return ctl_usage_error ("keys", "--identity '%s': its Secret's name needs lower case letters, "
                                        "digits, '-' or '.'", v);
            rc = s_names_add (&ids, flag, v);
        } else if (strcmp (flag, "--source") == 0)
            rc = s_names_add (&sources, flag, v);
        else if (strcmp (flag, "--signer") == 0)
            rc = s_names_add (&signers, flag, v);
        else if (strcmp (flag, "--payer") == 0)
            rc = s_names_add (&payers, flag, v);
        else if (strcmp (flag, "--namespace") == 0) {
            if (!*v || !s_dns_ok (v) || strlen (v) > 63)
                return ctl_usage_error ("keys", "--namespace '%s': not a namespace name", v);
            ns = v;
        } else if (strcmp (flag, "--redis") == 0) {
            if (!strchr (v, ':') || strpbrk (v, "@/ "))
                return ctl_usage_error ("keys", "--redis '%s': expected HOST:PORT", v);
            redis = v;
        } else
            return ctl_usage_error ("keys", "gen: unknown option %s", flag);
        if (rc)
            return rc;
    }
    if (sources.n == 0)
        sources.v[sources.n++] = "dev";
    if (sodium_init () < 0)
        return CTL_EXIT_FAIL;

    /* A new directory only: credentials are never overwritten. */
    mode_t old_mask = umask (077);
    char sub[4200];
    int made = mkdir (dir, 0700);
    if (made != 0 && errno == EEXIST) {
        s_path (sub, sizeof sub, dir, "credentials.yaml");
        char keys_dir[4200];
        s_path (keys_dir, sizeof keys_dir, dir, "keys");
        if (access (sub, F_OK) == 0 || access (keys_dir, F_OK) == 0) {
            umask (old_mask);
            fprintf (stderr, "plateauctl keys: %s holds credentials already; not replaced (rotate them "
                             "with `plateauctl keys rotate`)\n", dir);
            return CTL_EXIT_FAIL;
        }
        made = 0;
    }
    s_path (sub, sizeof sub, dir, "keys");
    char audit_dir[4200];
    s_path (audit_dir, sizeof audit_dir, dir, "audit");
    if (made != 0 || mkdir (sub, 0700) != 0 || mkdir (audit_dir, 0700) != 0) {
        umask (old_mask);
        fprintf (stderr, "plateauctl keys: cannot create %s: %s\n", dir, strerror (errno));
        return CTL_EXIT_FAIL;
    }
    int rc = CTL_EXIT_OK;
    s_lines_t list = { 0 }, tokens = { 0 }, isign = { 0 }, psign = { 0 };
    list.v[list.n++] = strdup ("# identity  public key — plateauctl keys; the newest of an identity first");
    for (size_t i = 0; i < ids.n && rc == CTL_EXIT_OK; i++) {
        char line[128];
        if (s_curve_new (dir, ids.v[i], line) != 0)
            rc = CTL_EXIT_FAIL;
        else
            list.v[list.n++] = strdup (line);
    }
    char value[160], line[256];
    for (size_t i = 0; i < sources.n; i++) {
        s_random_hex (value, 24);
        snprintf (line, sizeof line, "%s:%s", sources.v[i], value);
        tokens.v[tokens.n++] = strdup (line);
    }
    for (size_t i = 0; i < signers.n; i++) {
        s_random_hex (value, 32);
        snprintf (line, sizeof line, "%s:%s", signers.v[i], value);
        isign.v[isign.n++] = strdup (line);
    }
    for (size_t i = 0; i < payers.n; i++) {
        s_random_hex (value, 32);
        snprintf (line, sizeof line, "%s:%s", payers.v[i], value);
        psign.v[psign.n++] = strdup (line);
    }
    if (!isign.n)
        isign.v[isign.n++] = strdup ("# no source signs its requests to the intake");
    if (!psign.n)
        psign.v[psign.n++] = strdup ("# no payer");
    /* The notify service reads the audit's export as the source "notify": a reader, never an
     * auditor (numbers pseudonymised). Its token is one line of the doors' file and its own. */
    s_lines_t ntoken = { 0 };
    s_random_hex (value, 24);
    snprintf (line, sizeof line, "notify:%s", value);
    tokens.v[tokens.n++] = strdup (line);
    ntoken.v[ntoken.n++] = strdup (value);
    s_random_hex (value, 24);
    char p[4200], pub[4200];
    if (rc == CTL_EXIT_OK) {
        s_path (p, sizeof p, dir, "keys/keys");
        rc = s_lines_write (p, &list) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "api-tokens");
        rc = s_lines_write (p, &tokens) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "notify-audit-token");
        rc = s_lines_write (p, &ntoken) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "intake-signing-keys");
        rc = s_lines_write (p, &isign) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "promise-signing-keys");
        rc = s_lines_write (p, &psign) == 0 ? rc : CTL_EXIT_FAIL;
        rc = s_setting_write (dir, "redis-password", value) == 0 ? rc : CTL_EXIT_FAIL;
        rc = s_setting_write (dir, "redis-host", redis) == 0 ? rc : CTL_EXIT_FAIL;
        if (*ns)
            rc = s_setting_write (dir, "namespace", ns) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "audit/audit-signing.key");
        s_path (pub, sizeof pub, dir, "audit/audit-signing.pub");
        rc = pl_audit_keys_generate_signing (p, pub) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "audit/audit-pseudonym.key");
        rc = pl_audit_keys_generate_secret (p) == 0 ? rc : CTL_EXIT_FAIL;
        s_path (p, sizeof p, dir, "audit/audit-data.key");
        rc = pl_audit_keys_generate_secret (p) == 0 ? rc : CTL_EXIT_FAIL;
        if (rc != CTL_EXIT_OK)
            fprintf (stderr, "plateauctl keys: cannot write the credentials under %s: %s\n", dir, strerror (errno));
    }
    sodium_memzero (value, sizeof value);
    sodium_memzero (line, sizeof line);
    s_lines_free (&list);
    s_lines_free (&tokens);
    s_lines_free (&ntoken);
    s_lines_free (&isign);
    s_lines_free (&psign);
    umask (old_mask);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = s_manifest (dir);
    if (rc == CTL_EXIT_OK)
        printf ("%zu bus identities, %zu API token%s, %zu signing source%s; plateauctl's bus key is %s/keys/"
                "plateauctl.key with the list %s/keys/keys\n", ids.n, sources.n, sources.n == 1 ? "" : "s",
                signers.n + payers.n, signers.n + payers.n == 1 ? "" : "s", dir, dir);
    return rc;
}

/* ---- rotate, retire ------------------------------------------------------------------------- */

/* The files holding a kind's entries, and their separator. */
static size_t
s_kind_files (const char *kind, const char **files, char *sep)
{
    if (strcmp (kind, "bus") == 0) {
        files[0] = "keys/keys";
        *sep = ' ';
        return 1;
    }
    if (strcmp (kind, "token") == 0) {
        files[0] = "api-tokens";
        *sep = ':';
        return 1;
    }
    if (strcmp (kind, "signing") == 0) {
        files[0] = "intake-signing-keys";
        files[1] = "promise-signing-keys";
        *sep = ':';
        return 2;
    }
    return 0;
}

static int
s_change (int argc, char **argv, bool rotate)
{
    const char *cmd = rotate ? "rotate" : "retire";
    const char *dir = ctl_positional (argc, argv, 0), *kind = ctl_positional (argc, argv, 1),
               *name = ctl_positional (argc, argv, 2);
    const char *files[2];
    char sep;
    size_t nfiles = kind ? s_kind_files (kind, files, &sep) : 0;
    if (!dir || !name || !nfiles || ctl_positional (argc, argv, 3))
        return ctl_usage_error ("keys", "%s: expected DIR bus|token|signing NAME", cmd);
    if (!s_name_ok (name))
        return ctl_usage_error ("keys", "%s: '%s' is not a name", cmd, name);
    if (sodium_init () < 0)
        return CTL_EXIT_FAIL;
    size_t touched = 0;
    for (size_t k = 0; k < nfiles; k++) {
        char path[4200];
        s_path (path, sizeof path, dir, files[k]);
        s_lines_t l;
        if (s_lines_read (path, &l) != 0) {
            fprintf (stderr, "plateauctl keys: cannot read %s: %s\n", path, strerror (errno));
            return CTL_EXIT_FAIL;
        }
        size_t have = s_count_of (&l, name, sep);
        if (have == 0) {
            s_lines_free (&l);
            continue;
        }
        if (rotate && have > 1) {
            s_lines_free (&l);
            fprintf (stderr, "plateauctl keys: %s has two entries for '%s' already: a rotation is under way; "
                             "retire the older first\n", path, name);
            return CTL_EXIT_FAIL;
        }
        if (!rotate && have < 2) {
            s_lines_free (&l);
            continue;
        }
        char line[256], value[160];
        int rc = 0;
        if (!rotate)
            s_keep_first (&l, name, sep);
        else if (strcmp (kind, "bus") == 0) {
            char from[4200], to[4200];
            for (int e = 0; e < 2 && rc == 0; e++) {
                const char *ext = e ? "pub" : "key";
                snprintf (from, sizeof from, "%s/keys/%s.%s", dir, name, ext);
                snprintf (to, sizeof to, "%s/keys/%s.old.%s", dir, name, ext);
                rc = rename (from, to);
            }
            rc = rc == 0 ? s_curve_new (dir, name, line) : -1;
        } else {
            s_random_hex (value, strcmp (kind, "token") == 0 ? 24 : 32);
            snprintf (line, sizeof line, "%s:%s", name, value);
            sodium_memzero (value, sizeof value);
        }
        if (rc == 0 && rotate)
            rc = s_insert_first (&l, name, sep, line);
        sodium_memzero (line, sizeof line);
        rc = rc == 0 ? s_lines_write (path, &l) : rc;
        s_lines_free (&l);
        if (rc != 0) {
            fprintf (stderr, "plateauctl keys: %s: %s not written: %s\n", cmd, path, strerror (errno));
            return CTL_EXIT_FAIL;
        }
        if (!rotate && strcmp (kind, "bus") == 0)
            for (int e = 0; e < 2; e++) {
                char old[4200];
                snprintf (old, sizeof old, "%s/keys/%s.old.%s", dir, name, e ? "pub" : "key");
                unlink (old);
            }
        touched++;
    }
    if (!touched) {
        fprintf (stderr, "plateauctl keys: %s: no %s of '%s'%s in %s\n", cmd, kind, name,
                 rotate ? "" : " has an older entry to retire", dir);
        return CTL_EXIT_FAIL;
    }
    int rc = s_manifest (dir);
    if (rc == CTL_EXIT_OK)
        printf ("%s %s of '%s': %s\n", rotate ? "rotated" : "retired the older", kind, name,
                rotate ? "both admitted until retired; apply credentials.yaml, roll the pods, then retire"
                       : "apply credentials.yaml (and roll the pods that read it at start)");
    return rc;
}

int
ctl_keys_run (int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : NULL;
    if (!what || ctl_has_flag (argc, argv, "--help") || strcmp (what, "help") == 0) {
        ctl_keys_usage (what ? stdout : stderr);
        return what ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    if (strcmp (what, "gen") == 0)
        return s_gen (argc - 1, argv + 1);
    if (strcmp (what, "rotate") == 0 || strcmp (what, "retire") == 0)
        return s_change (argc - 1, argv + 1, strcmp (what, "rotate") == 0);
    if (strcmp (what, "manifest") == 0) {
        const char *dir = ctl_positional (argc - 1, argv + 1, 0);
        if (!dir)
            return ctl_usage_error ("keys", "manifest: expected DIR");
        return s_manifest (dir);
    }
    return ctl_usage_error ("keys", "unknown subcommand '%s' (gen, rotate, retire, manifest)", what);
}
