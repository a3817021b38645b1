/*  pl_test.c — private redis-server, free ports, spawned services (see pl_test.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "plateau/bus.h"
#include "plateau/redis.h"
#include "pl_test.h"
#include "pl_test_http.h"

#define S_CLUSTER_NODES 3

struct pl_test_redis {
    char *dir;
    int port;
    pid_t pid;
    char url[200];
    /* PL_TEST_REDIS_CLUSTER=1: three masters of one Redis Cluster instead of one server (url
     * then redis+cluster://…; port, pid are the first node's). */
    bool cluster;
    int ports[S_CLUSTER_NODES];
    pid_t pids[S_CLUSTER_NODES];
};

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

uint64_t
pl_test_rand (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

void
pl_test_loadavg (char *out, size_t size)
{
    FILE *f = fopen ("/proc/loadavg", "r");
    if (!f || !fgets (out, (int) size, f))
        snprintf (out, size, "?");
    if (f)
        fclose (f);
    out[strcspn (out, "\n")] = '\0';
}

void
pl_test_date (int days, char out[11])
{
    time_t t = time (NULL) + (time_t) days * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, 11, "%Y-%m-%d", &tm);
}

int
pl_test_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) == 0
        && getsockname (fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs (a.sin_port);
    close (fd);
    return port;
}

char *
pl_test_tmpdir (const char *prefix)
{
    const char *base = getenv ("TMPDIR");
    char *path = NULL;
    if (asprintf (&path, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix ? prefix : "pl") < 0)
        return NULL;
    if (!mkdtemp (path)) {
        free (path);
        return NULL;
    }
    return path;
}

void
pl_test_rmdir (const char *path)
{
    if (!path)
        return;
    DIR *d = opendir (path);
    if (d) {
        struct dirent *e;
        while ((e = readdir (d))) {
            if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
                continue;
            char *p = NULL;
            if (asprintf (&p, "%s/%s", path, e->d_name) < 0)
                continue;
            struct stat st;
            if (lstat (p, &st) == 0 && S_ISDIR (st.st_mode))
                pl_test_rmdir (p);
            else
                unlink (p);
            free (p);
        }
        closedir (d);
    }
    rmdir (path);
}

const char *
pl_test_bin (const char *name)
{
    static char buf[4096];
    const char *dir = getenv ("PL_BIN_DIR");
    snprintf (buf, sizeof buf, "%s/%s", dir && *dir ? dir : "build/bin", name);
    return buf;
}

double
pl_test_proc_cpu (pid_t pid)
{
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    size_t n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose (f);
    buf[n] = '\0';
    char *p = strrchr (buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double) (ut + st) / (double) sysconf (_SC_CLK_TCK);
}

void
pl_test_bin_dir (const char *dir)
{
    char self[4096];
    ssize_t n;
    if (dir)
        setenv ("PL_BIN_DIR", dir, 1);
    else if (!getenv ("PL_BIN_DIR") && (n = readlink ("/proc/self/exe", self, sizeof self - 1)) > 0) {
        self[n] = '\0';
        char *slash = strrchr (self, '/');
        if (slash) {
            *slash = '\0';
            setenv ("PL_BIN_DIR", self, 1);
        }
    }
}

int
pl_test_run (const char *cmd, char *out, size_t size)
{
    char full[4096];
    snprintf (full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen (full, "r");
    size_t n = p && size ? fread (out, 1, size - 1, p) : 0;
    if (size)
        out[n] = '\0';
    int st = p ? pclose (p) : -1;
    return st >= 0 && WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static void s_spawn_keys (const char *argv0);

pid_t
pl_test_spawn (char *const argv[], char *const env[], const char *log_path)
{
    pl_test_bus_keys_dir ();
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        setpgid (0, 0);
        for (int i = 0; env && env[i]; i++)
            putenv (env[i]);
        s_spawn_keys (argv[0]);
        if (log_path) {
            int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2 (fd, 1);
                dup2 (fd, 2);
                close (fd);
            }
        }
        const char *path = strchr (argv[0], '/') ? argv[0] : pl_test_bin (argv[0]);
        execv (path, argv);
        fprintf (stderr, "pl_test_spawn: exec %s: %s\n", path, strerror (errno));
        _exit (127);
    }
    return pid;
}

/* ---- the test key list: CURVE on, as in production ------------------------------------------ */

static const char *const s_identities[] = { "intake", "audit", "scrub", "dialer", "promise", "payments", "template", "telsim",
                                            "plateauctl", "test", "crm", NULL };
static char *s_keys_dir;
static pid_t s_keys_owner;
static pl_bus_options_t s_options[sizeof s_identities / sizeof *s_identities];
static char s_key_paths[sizeof s_identities / sizeof *s_identities][600];
static char s_list_path[600];

static void
s_keys_cleanup (void)
{
    if (s_keys_dir && getpid () == s_keys_owner)
        pl_test_rmdir (s_keys_dir);
}

const char *
pl_test_bus_keys_dir (void)
{
    if (s_keys_dir)
        return s_keys_dir;
    char *dir = pl_test_tmpdir ("pl-keys");
    if (!dir)
        return NULL;
    snprintf (s_list_path, sizeof s_list_path, "%s/keys", dir);
    FILE *list = fopen (s_list_path, "w");
    if (!list)
        return NULL;
    fprintf (list, "# identity  public key — the test stack's key list\n");
    for (size_t i = 0; s_identities[i]; i++) {
        char pub[600], line[64] = "";
        snprintf (pub, sizeof pub, "%s/%s.pub", dir, s_identities[i]);
        snprintf (s_key_paths[i], sizeof s_key_paths[i], "%s/%s.key", dir, s_identities[i]);
        FILE *in = NULL;
        if (pl_bus_curve_keygen (pub, s_key_paths[i]) != 0 || !(in = fopen (pub, "r"))
            || !fgets (line, sizeof line, in)) {
            if (in)
                fclose (in);
            fclose (list);
            return NULL;
        }
        fclose (in);
        fprintf (list, "%s %s", s_identities[i], line);
        s_options[i] = (pl_bus_options_t) { .curve_secret_key_file = s_key_paths[i], .keys_file = s_list_path };
    }
    fclose (list);
    s_keys_dir = dir;
    s_keys_owner = getpid ();
    atexit (s_keys_cleanup);
    return s_keys_dir;
}

const pl_bus_options_t *
pl_test_bus_options (const char *identity)
{
    if (!pl_test_bus_keys_dir ())
        return NULL;
    for (size_t i = 0; s_identities[i]; i++)
        if (strcmp (s_identities[i], identity) == 0)
            return &s_options[i];
    return NULL;
}

pl_bus_server_t *
pl_test_bus_server (const char *endpoint, const char *identity)
{
    char err[512];
    pl_bus_server_t *server = pl_bus_server_new (endpoint, pl_test_bus_options (identity), err, sizeof err);
    if (!server)
        fprintf (stderr, "pl_test_bus_server %s: %s\n", endpoint, err);
    else
        pl_bus_server_allow (server, "*", "*");
    return server;
}

pl_bus_server_t *
pl_test_bus_server_free (char *endpoint, size_t size, const char *identity)
{
    char err[512] = "";
    for (int attempt = 0; attempt < 20; attempt++) {
        snprintf (endpoint, size, "tcp://127.0.0.1:%d", pl_test_free_port ());
        pl_bus_server_t *server
            = pl_bus_server_new (endpoint, pl_test_bus_options (identity), err, sizeof err);
        if (server) {
            pl_bus_server_allow (server, "*", "*");
            return server;
        }
    }
    fprintf (stderr, "pl_test_bus_server_free %s: %s\n", endpoint, err);
    return NULL;
}

/* In the child: CURVE settings for a plateau service the test did not configure itself. */
static void
s_spawn_keys (const char *argv0)
{
    if (!s_keys_dir || getenv ("PLATEAU_BUS_SECURITY") || getenv ("PLATEAU_CURVE_SECRET_KEY_FILE"))
        return;
    const char *base = strrchr (argv0, '/') ? strrchr (argv0, '/') + 1 : argv0;
    const char *who = getenv ("PLATEAU_BUS_IDENTITY");
    if (!who)
        who = strncmp (base, "plateau-", 8) == 0 ? base + 8 : base;
    for (size_t i = 0; s_identities[i]; i++)
        if (strcmp (s_identities[i], who) == 0)
            setenv ("PLATEAU_CURVE_SECRET_KEY_FILE", s_key_paths[i], 1);
    if (!getenv ("PLATEAU_BUS_KEYS_FILE"))
        setenv ("PLATEAU_BUS_KEYS_FILE", s_list_path, 1);
}

int
pl_test_stop (pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill (pid, sig);
    for (int waited = 0; waited <= timeout_ms; waited += 5) {
        int status;
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        s_sleep_ms (5);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    return -1;
}

bool
pl_test_wait_until (bool (*fn) (void *arg), void *arg, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (fn (arg))
            return true;
        s_sleep_ms (10);
    }
    return fn (arg);
}

bool
pl_test_alive (pid_t pid)
{
    return pid > 0 && waitpid (pid, NULL, WNOHANG) == 0;
}

bool
pl_test_file_has (const char *path, const char *needle)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return false;
    char line[8192];
    bool found = false;
    while (!found && fgets (line, sizeof line, f))
        found = strstr (line, needle) != NULL;
    fclose (f);
    return found;
}

bool
pl_test_wait_started (pid_t pid, const char *log_path, int timeout_ms)
{
    /* The line must name this pid: the log may hold "started" lines of earlier runs. */
    char mark[64];
    snprintf (mark, sizeof mark, "\"msg\":\"started\"");
    char pid_mark[48];
    snprintf (pid_mark, sizeof pid_mark, "\"pid\":\"%d\"", (int) pid);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (!pl_test_alive (pid))
            return false;
        FILE *f = fopen (log_path, "r");
        bool found = false;
        char line[8192];
        while (f && !found && fgets (line, sizeof line, f))
            found = strstr (line, mark) && strstr (line, pid_mark);
        if (f)
            fclose (f);
        if (found)
            return true;
        s_sleep_ms (10);
    }
    return false;
}

static bool
s_redis_pings (void *arg)
{
    pl_test_redis_t *self = arg;
    pl_redis_t *redis = pl_redis_new (self->url, 200);
    bool ok = redis && pl_redis_ping (redis) == 0;
    pl_redis_destroy (&redis);
    return ok;
}

static int
s_redis_launch (pl_test_redis_t *self)
{
    char port[16];
    snprintf (port, sizeof port, "%d", self->port);
    char log[4096];
    snprintf (log, sizeof log, "%s/redis.log", self->dir);
    char conf[4096];
    snprintf (conf, sizeof conf, "%s/redis.conf", self->dir);
    char *argv[] = { "/usr/bin/redis-server", conf, "--port", port, "--bind", "127.0.0.1",
                     "--dir", self->dir, "--save", "", "--daemonize", "no", NULL };
    if (access (argv[0], X_OK) != 0)
        argv[0] = "redis-server";
    self->pid = pl_test_spawn (argv, NULL, log);
    if (self->pid < 0)
        return -1;
    if (!pl_test_wait_until (s_redis_pings, self, 10000)) {
        fprintf (stderr, "pl_test_redis: redis-server did not answer on port %d (see %s)\n",
                 self->port, log);
        return -1;
    }
    return 0;
}

/* ---- a three-master cluster (PL_TEST_REDIS_CLUSTER=1) ---------------------------------------- */

static bool
s_cluster_wanted (void)
{
    const char *v = getenv ("PL_TEST_REDIS_CLUSTER");
    return v && *v && strcmp (v, "0") != 0;
}

static pl_reply_t *
s_node_command (int port, const char *fmt, ...)
{
    char url[64];
    snprintf (url, sizeof url, "redis://127.0.0.1:%d/0", port);
    pl_redis_t *redis = pl_redis_new (url, 2000);
    if (!redis)
        return NULL;
    va_list ap;
    va_start (ap, fmt);
    pl_reply_t *r = pl_redis_vcommand (redis, fmt, ap);
    va_end (ap);
    pl_redis_destroy (&redis);
    return r;
}

static bool
s_node_pings (void *arg)
{
    pl_reply_t *r = s_node_command (*(int *) arg, "PING");
    bool ok = r && pl_reply_type (r) == PL_REPLY_STATUS;
    pl_reply_free (&r);
    return ok;
}

/* CLUSTER NODES lists three masters with three different config epochs (the 7th field). Masters
 * formed with ADDSLOTS all start at epoch 0 and tell themselves apart over a few pings; a slot
 * moved before then may be handed back by a peer whose epoch ties. */
static bool
s_epochs_distinct (const char *nodes)
{
    long long seen[S_CLUSTER_NODES];
    int n = 0;
    for (const char *line = nodes, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr (line, '\n');
        const char *f = line;
        for (int field = 0; field < 6 && f; field++) {
            f = strchr (f, ' ');
            f = f ? f + 1 : NULL;
        }
        if (!f)
            continue;
        long long e = strtoll (f, NULL, 10);
        for (int j = 0; j < n; j++)
            if (seen[j] == e)
                return false;
        if (n == S_CLUSTER_NODES)
            return false;
        seen[n++] = e;
    }
    return n == S_CLUSTER_NODES;
}

/* Every node says cluster_state:ok, maps all three masters and knows their distinct epochs. */
static bool
s_cluster_ok (void *arg)
{
    pl_test_redis_t *self = arg;
    for (int i = 0; i < S_CLUSTER_NODES; i++) {
        pl_reply_t *r = s_node_command (self->ports[i], "CLUSTER INFO");
        const char *t = r ? pl_reply_str (r, NULL) : NULL;
        bool ok = t && strstr (t, "cluster_state:ok");
        pl_reply_free (&r);
        r = s_node_command (self->ports[i], "CLUSTER SLOTS");
        ok = ok && r && pl_reply_len (r) == S_CLUSTER_NODES;
        pl_reply_free (&r);
        r = ok ? s_node_command (self->ports[i], "CLUSTER NODES") : NULL;
        ok = ok && r && pl_reply_str (r, NULL) && s_epochs_distinct (pl_reply_str (r, NULL));
        pl_reply_free (&r);
        if (!ok)
            return false;
    }
    return true;
}

static int
s_cluster_node_launch (pl_test_redis_t *self, int i)
{
    char port[16], dir[4096], log[4200], conf[4096];
    snprintf (port, sizeof port, "%d", self->ports[i]);
    snprintf (dir, sizeof dir, "%s/n%d", self->dir, i);
    mkdir (dir, 0700);
    snprintf (log, sizeof log, "%s/redis.log", dir);
    snprintf (conf, sizeof conf, "%s/redis.conf", self->dir);
    char *argv[] = { "/usr/bin/redis-server", conf, "--port", port, "--bind", "127.0.0.1", "--dir", dir,
                     "--save", "", "--daemonize", "no", "--cluster-enabled", "yes", "--cluster-config-file",
                     "nodes.conf", "--cluster-node-timeout", "3000", NULL };
    if (access (argv[0], X_OK) != 0)
        argv[0] = "redis-server";
    self->pids[i] = pl_test_spawn (argv, NULL, log);
    if (self->pids[i] < 0 || !pl_test_wait_until (s_node_pings, &self->ports[i], 10000)) {
        fprintf (stderr, "pl_test_redis: cluster node on port %d did not answer (see %s)\n", self->ports[i], log);
        return -1;
    }
    return 0;
}

static int
s_cluster_launch (pl_test_redis_t *self, bool form)
{
    for (int i = 0; i < S_CLUSTER_NODES; i++)
        if (s_cluster_node_launch (self, i) != 0)
            return -1;
    self->pid = self->pids[0];
    if (form) {
        /* The slots in three ranges, one per master, and the nodes introduced to each other. */
        for (int i = 0; i < S_CLUSTER_NODES; i++) {
            int from = i * 16384 / S_CLUSTER_NODES, to = (i + 1) * 16384 / S_CLUSTER_NODES - 1;
            pl_reply_t *r = s_node_command (self->ports[i], "CLUSTER ADDSLOTSRANGE %d %d", from, to);
            bool ok = r && pl_reply_type (r) == PL_REPLY_STATUS;
            pl_reply_free (&r);
            if (!ok)
                return -1;
            if (i > 0) {
                r = s_node_command (self->ports[i], "CLUSTER MEET 127.0.0.1 %d", self->ports[0]);
                pl_reply_free (&r);
            }
        }
    }
    if (!pl_test_wait_until (s_cluster_ok, self, 20000)) {
        fprintf (stderr, "pl_test_redis: the cluster on ports %d, %d, %d did not become ok\n", self->ports[0],
                 self->ports[1], self->ports[2]);
        return -1;
    }
    return 0;
}

static void
s_cluster_kill (pl_test_redis_t *self)
{
    for (int i = 0; i < S_CLUSTER_NODES; i++)
        if (self->pids[i] > 0) {
            pl_test_stop (self->pids[i], SIGKILL, 2000);
            self->pids[i] = 0;
        }
    self->pid = 0;
}

/* Whether nothing listens on port (a bind succeeds). */
static bool
s_port_free (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
                             .sin_port = htons ((uint16_t) port) };
    bool ok = bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
    close (fd);
    return ok;
}

/* A node's port: free, and its cluster bus port (port + 10000) free and valid too. */
static int
s_cluster_port (const pl_test_redis_t *self, int i)
{
    for (int tries = 0; tries < 1000; tries++) {
        int p = pl_test_free_port ();
        bool taken = p <= 0 || p + 10000 > 65535 || !s_port_free (p + 10000);
        for (int j = 0; j < i && !taken; j++)
            taken = self->ports[j] == p || self->ports[j] + 10000 == p || self->ports[j] == p + 10000;
        if (!taken)
            return p;
    }
    return -1;
}

static pl_test_redis_t *
s_cluster_start (pl_test_redis_t *self)
{
    self->cluster = true;
    for (int tries = 0; tries < 5; tries++) {
        for (int i = 0; i < S_CLUSTER_NODES; i++)
            self->ports[i] = s_cluster_port (self, i);
        self->port = self->ports[0];
        snprintf (self->url, sizeof self->url, "redis+cluster://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d",
                  self->ports[0], self->ports[1], self->ports[2]);
        if (s_cluster_launch (self, true) == 0)
            return self;
        s_cluster_kill (self);
        for (int i = 0; i < S_CLUSTER_NODES; i++) {
            char d[4200];
            snprintf (d, sizeof d, "%s/n%d", self->dir, i);
            pl_test_rmdir (d);
        }
    }
    pl_test_redis_stop (&self);
    return NULL;
}

pl_test_redis_t *
pl_test_redis_start (const char *extra_conf)
{
    pl_test_redis_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = pl_test_tmpdir ("pl-redis");
    char conf[4096];
    snprintf (conf, sizeof conf, "%s/redis.conf", self->dir);
    FILE *f = fopen (conf, "w");
    if (!f) {
        pl_test_redis_stop (&self);
        return NULL;
    }
    fprintf (f, "protected-mode yes\n%s", extra_conf ? extra_conf : "");
    fclose (f);
    if (s_cluster_wanted ())
        return s_cluster_start (self);
    /* A free port can be taken between probe and bind: retry a few times. */
    for (int tries = 0; tries < 5; tries++) {
        self->port = pl_test_free_port ();
        snprintf (self->url, sizeof self->url, "redis://127.0.0.1:%d/0", self->port);
        if (s_redis_launch (self) == 0)
            return self;
        pl_test_stop (self->pid, SIGKILL, 1000);
        self->pid = 0;
    }
    pl_test_redis_stop (&self);
    return NULL;
}

void
pl_test_redis_stop (pl_test_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_test_redis_t *self = *self_p;
    if (self->cluster)
        s_cluster_kill (self);
    else if (self->pid > 0)
        pl_test_stop (self->pid, SIGKILL, 2000);
    pl_test_rmdir (self->dir);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const char *pl_test_redis_url (const pl_test_redis_t *self) { return self->url; }
int pl_test_redis_node_port (const pl_test_redis_t *self, int i)
{
    return !self->cluster ? (i == 0 ? self->port : -1) : i >= 0 && i < S_CLUSTER_NODES ? self->ports[i] : -1;
}
int pl_test_redis_port (const pl_test_redis_t *self) { return self->port; }

int
pl_test_redis_kill (pl_test_redis_t *self)
{
    if (self->pid <= 0)
        return -1;
    if (self->cluster) {
        s_cluster_kill (self);
        return 0;
    }
    pl_test_stop (self->pid, SIGKILL, 2000);
    self->pid = 0;
    return 0;
}

int
pl_test_redis_restart (pl_test_redis_t *self)
{
    if (self->pid > 0)
        pl_test_redis_kill (self);
    if (self->cluster) {        /* each node again, from its nodes.conf: the same cluster */
        for (int tries = 0; tries < 50; tries++) {
            if (s_cluster_launch (self, false) == 0)
                return 0;
            s_cluster_kill (self);
            s_sleep_ms (100);
        }
        return -1;
    }
    /* The port was just released; the kernel may hold it briefly. */
    for (int tries = 0; tries < 50; tries++) {
        if (s_redis_launch (self) == 0)
            return 0;
        pl_test_stop (self->pid, SIGKILL, 1000);
        self->pid = 0;
        s_sleep_ms (100);
    }
    return -1;
}

long long
pl_test_redis_int (pl_test_redis_t *self, const char *fmt, ...)
{
    pl_redis_t *redis = pl_redis_new (self->url, 2000);
    if (!redis)
        return -1;
    va_list ap;
    va_start (ap, fmt);
    pl_reply_t *r = pl_redis_vcommand (redis, fmt, ap);
    va_end (ap);
    long long v = -1;
    if (r && pl_reply_type (r) == PL_REPLY_INTEGER)
        v = pl_reply_int (r);
    else if (r && pl_reply_type (r) == PL_REPLY_STRING)
        v = strtoll (pl_reply_str (r, NULL), NULL, 10);
    pl_reply_free (&r);
    pl_redis_destroy (&redis);
    return v;
}

int
pl_test_http_get (int port, const char *path, char **body)
{
    if (body)
        *body = NULL;
    /* Callers poll services that may hang while starting: give up sooner than the client does. */
    pl_http_client_t *c = pl_http_client_new ("127.0.0.1", port, 5000);
    pl_test_http_resp_t resp = { 0 };
    int status = c ? pl_http_client_request (c, "GET", path, NULL, NULL, 0, &resp) : -1;
    pl_http_client_destroy (&c);
    if (body) {
        *body = resp.body;
        resp.body = NULL;
    }
    pl_test_http_resp_free (&resp);
    return status < 0 ? -1 : status;
}
