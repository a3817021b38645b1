/*  clock.h — the one way services read time: real or virtual.
 *
 *  Every service takes a pl_clock_t and never calls time() or clock_gettime() for wall time
 *  itself, so that a simulated week runs in seconds and tests never sleep to wait for a calling
 *  window. A virtual clock only moves when told to (pl_clock_set / pl_clock_advance), which a
 *  controller does through the bus (ClockControl message) or `plateauctl clock`, or runs at a
 *  fixed speed from a shared wall-clock anchor (PLATEAU_CLOCK=virtual:<start>@<anchor>x<speed>).
 *
 *  Monotonic time for timeouts and backoff (pl_clock_mono_ms) is always real: a virtual clock
 *  that stands still must not stop retries.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H
#include <stdint.h>
#include <stdbool.h>

typedef struct pl_clock pl_clock_t;

/* A clock reading the system's UTC time. Free with pl_clock_destroy. */
pl_clock_t *pl_clock_new_real (void);
/* A virtual clock standing at start_ms (UTC milliseconds). */
pl_clock_t *pl_clock_new_virtual (int64_t start_ms);
void pl_clock_destroy (pl_clock_t **self_p);

bool pl_clock_is_virtual (const pl_clock_t *self);
/* UTC milliseconds since the epoch. Thread-safe. A NULL clock reads real time. */
int64_t pl_clock_now_ms (const pl_clock_t *self);
/* Virtual clocks only: move to ms (never backwards) or by delta_ms >= 0. PL_EINVAL otherwise. */
int pl_clock_set (pl_clock_t *self, int64_t ms);
int pl_clock_advance (pl_clock_t *self, int64_t delta_ms);

/* Virtual clocks only: make the clock run — from the wall-clock instant anchor_real_ms on it
 * reads set_ms + speed × (wall − anchor_real_ms). Processes given the same three values agree on
 * virtual time without messages (a simulated fortnight across services in minutes). Never
 * backwards: PL_EINVAL if the new reading would be behind the current one, or for a real clock,
 * an anchor <= 0 or a speed outside 1..1,000,000. pl_clock_set and pl_clock_advance then jump it
 * and it goes on at its speed. */
int pl_clock_run (pl_clock_t *self, int64_t set_ms, int64_t anchor_real_ms, int speed);
bool pl_clock_is_running (const pl_clock_t *self);
/* How many of its milliseconds pass per wall millisecond: the speed of a running virtual clock,
 * 1 otherwise. A tolerance meant in wall time (a message's transit) is multiplied by it. */
int pl_clock_speed (const pl_clock_t *self);

/* Real monotonic milliseconds, for timeouts. */
int64_t pl_clock_mono_ms (void);

#endif
