/*  loop.c — zmq_poll loop with timers and a signalfd (see loop.h). */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>
#include "plateau/clock.h"
#include "plateau/error.h"
#include "plateau/loop.h"

#define PL_LOOP_MAX_ITEMS 64
#define PL_LOOP_MAX_TIMERS 32

typedef struct {
    pl_loop_fn *fn;
    void *arg;
} s_handler_t;

typedef struct {
    int interval_ms;
    int64_t due_ms;
    pl_loop_fn *fn;
    void *arg;
} s_timer_t;

struct pl_loop {
    zmq_pollitem_t items[PL_LOOP_MAX_ITEMS];
    s_handler_t handlers[PL_LOOP_MAX_ITEMS];
    size_t nitems;
    s_timer_t timers[PL_LOOP_MAX_TIMERS];
    size_t ntimers;
    int sigfd;
    pl_loop_fn *on_signal;
    void *signal_arg;
    int last_signal;
    bool stop;
};

pl_loop_t *
pl_loop_new (void)
{
    pl_loop_t *self = calloc (1, sizeof *self);
    if (self)
        self->sigfd = -1;
    return self;
}

void
pl_loop_destroy (pl_loop_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->sigfd >= 0)
        close ((*self_p)->sigfd);
    free (*self_p);
    *self_p = NULL;
}

static int
s_add (pl_loop_t *self, void *zsock, int fd, pl_loop_fn *fn, void *arg)
{
    if (self->nitems == PL_LOOP_MAX_ITEMS)
        return PL_ERANGE;
    zmq_pollitem_t *it = &self->items[self->nitems];
    it->socket = zsock;
    it->fd = fd;
    it->events = ZMQ_POLLIN;
    self->handlers[self->nitems].fn = fn;
    self->handlers[self->nitems].arg = arg;
    self->nitems++;
    return 0;
}

int pl_loop_add_socket (pl_loop_t *self, void *zsock, pl_loop_fn *fn, void *arg) { return s_add (self, zsock, -1, fn, arg); }
int pl_loop_add_fd (pl_loop_t *self, int fd, pl_loop_fn *fn, void *arg) { return s_add (self, NULL, fd, fn, arg); }
int pl_loop_last_signal (const pl_loop_t *self) { return self->last_signal; }
void pl_loop_stop (pl_loop_t *self) { self->stop = true; }

int
pl_loop_add_timer (pl_loop_t *self, int interval_ms, pl_loop_fn *fn, void *arg)
{
    if (self->ntimers == PL_LOOP_MAX_TIMERS || interval_ms <= 0)
        return PL_ERANGE;
    s_timer_t *t = &self->timers[self->ntimers];
    t->interval_ms = interval_ms;
    t->due_ms = pl_clock_mono_ms () + interval_ms;
    t->fn = fn;
    t->arg = arg;
    return (int) self->ntimers++;
}

static int
s_on_sigfd (pl_loop_t *self, void *arg)
{
    struct signalfd_siginfo si;
    while (read (self->sigfd, &si, sizeof si) == (ssize_t) sizeof si) {
        self->last_signal = (int) si.ssi_signo;
        if (self->on_signal && self->on_signal (self, self->signal_arg) != 0)
            return -1;
    }
    return 0;
}

int
pl_loop_block_signals (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    return pthread_sigmask (SIG_BLOCK, &set, NULL) == 0 ? 0 : PL_EIO;
}

int
pl_loop_on_signal (pl_loop_t *self, pl_loop_fn *fn, void *arg)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    if (pl_loop_block_signals () != 0)
        return PL_EIO;
    self->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->sigfd < 0)
        return PL_EIO;
    self->on_signal = fn;
    self->signal_arg = arg;
    return s_add (self, NULL, self->sigfd, (pl_loop_fn *) s_on_sigfd, NULL);
}

int
pl_loop_run (pl_loop_t *self)
{
    self->stop = false;
    while (!self->stop) {
        int64_t now = pl_clock_mono_ms ();
        long timeout = 1000;
        for (size_t i = 0; i < self->ntimers; i++) {
            long left = (long) (self->timers[i].due_ms - now);
            if (left < timeout)
                timeout = left < 0 ? 0 : left;
        }
        int rc = zmq_poll (self->items, (int) self->nitems, timeout);
        if (rc < 0 && zmq_errno () != EINTR)
            return PL_EIO;
        for (size_t i = 0; rc > 0 && i < self->nitems && !self->stop; i++) {
            if (!(self->items[i].revents & ZMQ_POLLIN))
                continue;
            if (self->handlers[i].fn (self, self->handlers[i].arg) != 0)
                self->stop = true;
        }
        now = pl_clock_mono_ms ();
        for (size_t i = 0; i < self->ntimers && !self->stop; i++) {
            s_timer_t *t = &self->timers[i];
            if (t->due_ms > now)
                continue;
            t->due_ms = now + t->interval_ms;
            if (t->fn (self, t->arg) != 0)
                self->stop = true;
        }
    }
    return 0;
}
