/*  utf8.h — the project's one UTF-8 validator.
 *
 *  Every input that must be text (phone numbers, CSV cells, audit record strings) is checked
 *  here, so that "valid UTF-8" means one thing across plateau: well-formed per RFC 3629, with no
 *  overlong forms, no surrogates (U+D800..U+DFFF) and nothing above U+10FFFF. Pure, no state,
 *  safe from any thread; lives in pl_base, which the kit, the rules and the phone library link.
 */
#ifndef PL_UTF8_H
#define PL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* True when the len bytes at s are well-formed UTF-8. NUL bytes are ordinary (U+0000): pass
 * strlen(s) to check a C string. Borrows s; len 0 is valid whatever s is. */
bool pl_utf8_valid (const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
