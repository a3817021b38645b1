/*  policy.h — the delivery rules of webhooks, as functions of facts: which answers are final,
 *  how long to wait before the next attempt, which URLs a subscription may name.
 *
 *  Nothing here does I/O or reads a clock, so each rule is tested alone (tests/unit/
 *  test_notify_policy.c) and the delivery loop (deliver.c) only applies the answers.
 */
#ifndef NOTIFY_POLICY_H
#define NOTIFY_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an attempt's answer means. */
typedef enum {
    NOTIFY_DELIVERED = 0,       /* 2xx */
    NOTIFY_RETRY,               /* 408, 429, 5xx, no answer (timeout, refused, TLS failure) */
    NOTIFY_PERMANENT            /* any other status: the receiver refuses this event for good */
} notify_verdict_t;

/* status: the HTTP status, or 0 when no answer came (transport failure or timeout). */
notify_verdict_t notify_policy_classify (int status);

/* The wait before attempt number `attempts` + 1, after `attempts` failed ones (>= 1): full
 * jitter over an exponential ceiling, min(cap_ms, base_ms * 2^(attempts-1)), drawn from
 * `random` (any 64-bit value: the caller's generator). A Retry-After the receiver sent
 * (retry_after_ms >= 0) replaces the draw, bounded by cap_ms. Never below 0. */
int64_t notify_policy_backoff_ms (int attempts, int64_t base_ms, int64_t cap_ms, uint64_t random,
                                  int64_t retry_after_ms);

/* A Retry-After header value — delay-seconds ("120") or an HTTP date ("Wed, 21 Oct 2026
 * 07:28:00 GMT") — as milliseconds from now_ms (0 when the date is past); -1 when absent or
 * unreadable. */
int64_t notify_policy_retry_after_ms (const char *value, int64_t now_ms);

/* The longest subscription URL PLATEAU_NOTIFY_MAX_URL may allow. */
#define NOTIFY_URL_MAX 8192

/* Checks a subscription's URL: absolute, "https://" (or "http://" when allow_insecure), a
 * host, no user:password, at most max_len bytes, no fragment; with !allow_insecure the host
 * may not be a loopback, private, link-local or unspecified address literal, nor "localhost".
 * 0, or PL_EINVAL with the reason in why[size]. */
int notify_policy_url_check (const char *url, size_t max_len, bool allow_insecure, char *why,
                             size_t size);

/* True when a connection to this address (an IPv4 or IPv6 socket address, as libcurl resolves
 * it) must be refused for a webhook: loopback, private (RFC 1918, fc00::/7), link-local
 * (cloud metadata at 169.254.169.254), CGNAT, unspecified, multicast. */
struct sockaddr;
bool notify_policy_address_private (const struct sockaddr *sa);

#endif
