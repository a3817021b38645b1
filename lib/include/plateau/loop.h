/*  loop.h — the one event loop of a service: ZeroMQ sockets, file descriptors, timers, signals.
 *
 *  Built on zmq_poll. SIGTERM and SIGINT are received through a signalfd polled like any other
 *  descriptor, so a handler never runs in signal context; the service's on-signal callback starts
 *  draining and the loop keeps running until the service calls pl_loop_stop().
 */
#ifndef PL_LOOP_H
#define PL_LOOP_H
#include <stdint.h>

typedef struct pl_loop pl_loop_t;
/* Returns 0 to continue, -1 to stop the loop. */
typedef int (pl_loop_fn) (pl_loop_t *loop, void *arg);

pl_loop_t *pl_loop_new (void);
void pl_loop_destroy (pl_loop_t **self_p);

/* Called when zsock (a ZeroMQ socket) is readable. */
int pl_loop_add_socket (pl_loop_t *self, void *zsock, pl_loop_fn *fn, void *arg);
/* Called when fd is readable. */
int pl_loop_add_fd (pl_loop_t *self, int fd, pl_loop_fn *fn, void *arg);
/* Called every interval_ms (real, monotonic time). Returns a timer id. */
int pl_loop_add_timer (pl_loop_t *self, int interval_ms, pl_loop_fn *fn, void *arg);
/* Blocks SIGTERM and SIGINT in the calling thread and the threads it creates afterwards: call
 * it first thing in main(), before any library starts a thread. */
int pl_loop_block_signals (void);
/* Blocks SIGTERM and SIGINT and calls fn once per signal received. */
int pl_loop_on_signal (pl_loop_t *self, pl_loop_fn *fn, void *arg);
/* The last signal number received (0 if none). */
int pl_loop_last_signal (const pl_loop_t *self);

/* Runs until a callback returns -1 or pl_loop_stop is called. */
int pl_loop_run (pl_loop_t *self);
void pl_loop_stop (pl_loop_t *self);

#endif
