/*  failpoint.h — named places where a test may have the process die, to prove crash safety.
 *
 *  PLATEAU_FAILPOINTS="inbox.reading=30,inbox.applied=30" makes pl_failpoint("inbox.reading")
 *  kill the process with SIGKILL, 30 times in 1000 calls (chosen at random). Crash tests set it
 *  to die at exact moments — inside an atomic step, between a step and its acknowledgement —
 *  that an outside kill hits only by luck. Unset (always, in production) a failpoint costs one
 *  load and a branch.
 *
 *  Failpoints of the kit: inbox.queued (a step's pipeline built, nothing sent), inbox.reading
 *  (sent, the first reply read, the others not), inbox.applied (every reply read, nothing acked).
 */
#ifndef PL_FAILPOINT_H
#define PL_FAILPOINT_H

/* Dies here (SIGKILL) if PLATEAU_FAILPOINTS names this place and the draw says so. */
void pl_failpoint (const char *name);

#endif
