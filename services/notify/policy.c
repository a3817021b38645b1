/*  policy.c — status classes, backoff, Retry-After and URL checks of webhooks (see policy.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <curl/curl.h>

#include "policy.h"
#include "plateau/error.h"

notify_verdict_t
notify_policy_classify (int status)
{
    if (status >= 200 && status < 300)
        return NOTIFY_DELIVERED;
    if (status <= 0 || status == 408 || status == 429 || status >= 500)
        return NOTIFY_RETRY;
    return NOTIFY_PERMANENT;          /* 1xx/3xx (redirects are not followed) and other 4xx */
}

int64_t
notify_policy_backoff_ms (int attempts, int64_t base_ms, int64_t cap_ms, uint64_t random,
                          int64_t retry_after_ms)
{
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    if (retry_after_ms >= 0)
        return retry_after_ms < cap_ms ? retry_after_ms : cap_ms;
    int64_t ceiling = base_ms;
    for (int i = 1; i < attempts && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    return (int64_t) (random % (uint64_t) (ceiling + 1));
}

int64_t
notify_policy_retry_after_ms (const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return -1;
    if (isdigit ((unsigned char) *value)) {
        char *end = NULL;
        unsigned long long s = strtoull (value, &end, 10);
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        if (!end || *end || s > 365ULL * 24 * 3600)
            return -1;
        return (int64_t) s * 1000;
    }
    /* An HTTP date (IMF-fixdate; libcurl also reads the obsolete forms). */
    time_t t = curl_getdate (value, NULL);
    if (t == (time_t) -1)
        return -1;
    /* A date past a year from now is read as a year (the caller's cap bounds it anyway): in
     * milliseconds a date of the far future would overflow. */
    const int64_t year_s = 365LL * 24 * 3600;
    if ((int64_t) t > now_ms / 1000 + year_s)
        return year_s * 1000;
    if ((int64_t) t < 0)
        return 0;
    int64_t ms = (int64_t) t * 1000 - now_ms;
    return ms > 0 ? ms : 0;
}

static bool
s_v4_private (uint32_t a)             /* host order */
{
    return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a >> 16) == 0xA9FE
        || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8 || (a >> 22) == (100u << 2 | 1)
        || (a >> 28) >= 0xE;
}

static bool
s_v6_private (const struct in6_addr *a)
{
    const uint8_t *b = a->s6_addr;
    if (IN6_IS_ADDR_V4MAPPED (a) || IN6_IS_ADDR_V4COMPAT (a))
        return s_v4_private ((uint32_t) b[12] << 24 | (uint32_t) b[13] << 16 | (uint32_t) b[14] << 8 | b[15]);
    return IN6_IS_ADDR_UNSPECIFIED (a) || IN6_IS_ADDR_LOOPBACK (a) || IN6_IS_ADDR_LINKLOCAL (a)
        || IN6_IS_ADDR_SITELOCAL (a) || IN6_IS_ADDR_MULTICAST (a) || (b[0] & 0xFE) == 0xFC;
}

bool
notify_policy_address_private (const struct sockaddr *sa)
{
    if (!sa)
        return true;
    if (sa->sa_family == AF_INET)
        return s_v4_private (ntohl (((const struct sockaddr_in *) sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return s_v6_private (&((const struct sockaddr_in6 *) sa)->sin6_addr);
    return true;
}

static int
s_fail (char *why, size_t size, const char *text)
{
    if (why && size)
        snprintf (why, size, "%s", text);
    return PL_EINVAL;
}

int
notify_policy_url_check (const char *url, size_t max_len, bool allow_insecure, char *why, size_t size)
{
    if (!url || !*url)
        return s_fail (why, size, "url: required");
    if (strlen (url) > max_len)
        return s_fail (why, size, "url: too long");
    /* A URL is ASCII: an international host in punycode, other characters percent-encoded. */
    for (const char *p = url; *p; p++)
        if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
            return s_fail (why, size, "url: blanks, control or non-ASCII characters (write the host in "
                                      "punycode and percent-encode the rest)");
    bool https = strncasecmp (url, "https://", 8) == 0;
    if (!https && !(allow_insecure && strncasecmp (url, "http://", 7) == 0))
        return s_fail (why, size, allow_insecure ? "url: http:// or https:// required"
                                                 : "url: https:// required");
    CURLU *u = curl_url ();
    if (!u || curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        curl_url_cleanup (u);
        return s_fail (why, size, "url: not a valid URL");
    }
    char *host = NULL, *user = NULL, *frag = NULL;
    curl_url_get (u, CURLUPART_HOST, &host, 0);
    curl_url_get (u, CURLUPART_USER, &user, 0);
    curl_url_get (u, CURLUPART_FRAGMENT, &frag, 0);
    int rc = 0;
    if (!host || !*host)
        rc = s_fail (why, size, "url: no host");
    else if (user)
        rc = s_fail (why, size, "url: credentials in the URL are not allowed (sign with the secret)");
    else if (frag)
        rc = s_fail (why, size, "url: no fragment");
    else if (!allow_insecure) {
        char h[256];
        snprintf (h, sizeof h, "%s", host);
        size_t n = strlen (h);
        if (n > 1 && h[0] == '[' && h[n - 1] == ']') {      /* an IPv6 literal */
            memmove (h, h + 1, n - 2);
            h[n - 2] = '\0';
        }
        struct sockaddr_in v4 = { .sin_family = AF_INET };
        struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
        if (strcasecmp (h, "localhost") == 0 || (n > 10 && strcasecmp (h + strlen (h) - 10, ".localhost") == 0)
            || (inet_pton (AF_INET, h, &v4.sin_addr) == 1 && notify_policy_address_private ((struct sockaddr *) &v4))
            || (inet_pton (AF_INET6, h, &v6.sin6_addr) == 1 && notify_policy_address_private ((struct sockaddr *) &v6)))
            rc = s_fail (why, size, "url: private, loopback and link-local addresses are not allowed");
    }
    curl_free (host);
    curl_free (user);
    curl_free (frag);
    curl_url_cleanup (u);
    return rc;
}
