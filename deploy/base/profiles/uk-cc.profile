# United Kingdom — live marketing calls (CC): PECR and Ofcom's persistent-misuse policy, and a
# house calling window (uk.hours) that is policy, not law (basis = policy).

[profile]
id           = uk-cc
title        = United Kingdom, marketing calls
jurisdiction = GB
kind         = CC

[rule uk.hours]
summary = A house window for marketing calls, 08:00-21:00 local time, every day. The UK sets no statutory hours for marketing calls; this is the direct-marketing industry's practice and a default users expect, not law. A campaign may narrow it.
source  = UK direct-marketing industry practice; no statutory hours for marketing calls (PECR sets none)
basis   = policy
hours   = 08:00-21:00

[rule uk.tps]
summary   = No live marketing calls to numbers registered with the TPS (individual subscribers: consumers, sole traders, partnerships) without that subscriber's consent to calls from this caller; re-screen every 28 days (the 28-day figure is from guidance and unconfirmed). The registration says who subscribes, so it applies whatever the lead calls its callee.
source    = PECR (SI 2003/2426) reg. 21; 28-day re-screening from ICO guidance
status    = unconfirmed
list      = tps
max-age   = 28d
exempt-by = consent

[rule uk.ctps]
summary   = No live marketing calls to numbers of corporate subscribers (companies, public bodies) registered with the Corporate TPS without that subscriber's consent to calls from this caller; re-screen every 28 days (unconfirmed, as for the TPS). Applies by registration, whatever the lead calls its callee.
source    = PECR (SI 2003/2426) reg. 21, 26; 28-day re-screening from ICO guidance
status    = unconfirmed
list      = ctps
max-age   = 28d
exempt-by = consent

[rule uk.abandon]
summary       = Abandoned calls at most 3% of live calls per campaign per 24 hours (midnight to midnight); an agent or an information message within 2 s; unanswered calls ring at least 15 s. Enforced by the dialer's pacing, not per call.
source        = Ofcom statement of policy on persistent misuse (2010, revised 2016)
max-rate      = 3%
period        = day
agent-within  = 2s
ring-at-least = 15s
message       = required

[rule uk.abandon-retry]
summary = After an abandoned call, no new call to that number for 72 hours unless an agent is guaranteed; after an answering-machine detection, no retry the same day without a guaranteed agent.
source  = Ofcom statement of policy on persistent misuse (2010)
when    = !agent-guaranteed
after   = abandoned 72h by tenant,number
after   = machine same-day by tenant,number

[rule uk.cli]
summary = A valid, diallable caller id the person can call back.
source  = Ofcom General Condition C6
cli     = valid

[rule uk.optout]
summary = A subscriber who told this caller not to call (its internal list) is not called. Not in the calling-rules reference table; it is PECR's own-list rule.
source  = PECR (SI 2003/2426) reg. 21(1)(a)
list    = internal-dnc
