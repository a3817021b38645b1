/*  us_area_states.h — the generated US area code → state table (us_area_states.c).
 *
 *  Internal to lib/phone. The table is written by scripts/gen-us-area-states.py; see the top of
 *  us_area_states.c for how to regenerate it.
 */
#ifndef PL_US_AREA_STATES_H
#define PL_US_AREA_STATES_H

#include <stddef.h>

extern const char pl__us_area_states[800][3];    /* [npa - 200]: "FL", or "" */
extern const size_t pl__us_area_state_count;     /* area codes with a state */

#endif
