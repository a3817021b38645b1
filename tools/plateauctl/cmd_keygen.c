/*  cmd_keygen.c — `plateauctl keygen`: write a CURVE key pair for a service's bus.
 *
 *  <name>.pub holds the public key (40 characters of Z85 and a newline): it goes to the
 *  deployment's key list (PLATEAU_BUS_KEYS_FILE, '<name> <public key>' per line; the line is
 *  printed). <name>.key holds the secret key, mode 0600
 *  from the moment the file exists (the umask is tightened first), and belongs in a
 *  Kubernetes Secret. Existing files are kept unless --force.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "plateau/bus.h"

void
ctl_keygen_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl keygen <name> [--dir DIR] [--force]\n"
             "\n"
             "Writes a new CURVE key pair for the bus: DIR/<name>.pub (public key, share it) and\n"
             "DIR/<name>.key (secret key, mode 0600; keep it in a Secret, and point the\n"
             "service's PLATEAU_CURVE_SECRET_KEY_FILE at it). Both hold 40 characters of Z85.\n"
             "The last line printed, '<name> <public key>', is the service's line in the key\n"
             "list (PLATEAU_BUS_KEYS_FILE): <name> is then its identity on the bus.\n"
             "\n"
             "options:\n"
             "  --dir DIR   where to write (default: the current directory; created if missing)\n"
             "  --force     replace existing files of that name\n");
}

/* mkdir -p with mode 0700 for what it creates. */
static int
s_mkdirs (const char *dir)
{
    char path[4096];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir (path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir (path, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat (path, &st) == 0 && S_ISDIR (st.st_mode) ? 0 : -1;
}

static bool
s_name_valid (const char *name)
{
    if (!*name || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        return false;
    for (const char *c = name; *c; c++)
        if (*c == '/' || (unsigned char) *c < 0x20)
            return false;
    return true;
}

int
ctl_keygen_run (int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = ".";
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long (argc, argv, "d:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            ctl_keygen_usage (stdout);
            return CTL_EXIT_OK;
        default:
            ctl_keygen_usage (stderr);
            return CTL_EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error ("keygen", "expected one key name (e.g. 'intake')");
    const char *name = argv[optind];
    if (!s_name_valid (name))
        return ctl_usage_error ("keygen", "key name '%s': expected a file name without '/'", name);
    if (!*dir)
        return ctl_usage_error ("keygen", "--dir: expected a directory");

    char pub[4096], sec[4096];
    if (snprintf (pub, sizeof pub, "%s/%s.pub", dir, name) >= (int) sizeof pub
        || snprintf (sec, sizeof sec, "%s/%s.key", dir, name) >= (int) sizeof sec)
        return ctl_usage_error ("keygen", "path too long");
    if (s_mkdirs (dir) != 0) {
        fprintf (stderr, "plateauctl keygen: cannot create directory %s: %s\n", dir, strerror (errno));
        return CTL_EXIT_FAIL;
    }
    if (!force && (access (pub, F_OK) == 0 || access (sec, F_OK) == 0)) {
        fprintf (stderr, "plateauctl keygen: %s or %s exists already (--force replaces them)\n", pub, sec);
        return CTL_EXIT_FAIL;
    }
    if (force) {
        unlink (pub);           /* a new file gets the modes below, whatever the old one had */
        unlink (sec);
    }
    /* The secret file is created 0600 rather than made so afterwards: nobody can open it in
     * between and read the key later. */
    mode_t old = umask (077);
    errno = 0;
    int rc = pl_bus_curve_keygen (pub, sec);
    int saved = errno;
    umask (old);
    if (rc != 0) {
        fprintf (stderr, "plateauctl keygen: cannot write %s and %s: %s\n", pub, sec,
                 saved ? strerror (saved) : "key generation failed");
        unlink (pub);
        unlink (sec);
        return CTL_EXIT_FAIL;
    }
    if (chmod (pub, 0644) != 0 || chmod (sec, 0600) != 0) {
        fprintf (stderr, "plateauctl keygen: cannot set file modes: %s\n", strerror (errno));
        return CTL_EXIT_FAIL;
    }
    char key[64] = "";
    FILE *f = fopen (pub, "r");
    if (f) {
        if (!fgets (key, sizeof key, f))
            key[0] = '\0';
        fclose (f);
        key[strcspn (key, "\r\n")] = '\0';
    }
    printf ("public key %s  %s\n", pub, key);
    printf ("secret key %s  (mode 0600)\n", sec);
    printf ("key list line (append it to PLATEAU_BUS_KEYS_FILE):\n%s %s\n", name, key);
    return CTL_EXIT_OK;
}
