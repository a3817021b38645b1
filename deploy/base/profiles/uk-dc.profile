# United Kingdom — debt collection (DC): FCA CONC 7.9 and Ofcom's persistent-misuse policy.
#
# CONC asks for no contact at unreasonable times and for the customer's requests about when to
# call to be honoured; 08:00-21:00 is a conservative default (unconfirmed) a campaign may narrow.

[profile]
id           = uk-dc
title        = United Kingdom, debt collection
jurisdiction = GB
kind         = DC

[rule uk.dc]
summary  = No contact at unreasonable times (default window 08:00-21:00, a house choice) and honour the customer's requests about when to call.
source   = FCA Handbook CONC 7.9
status   = unconfirmed
hours    = 08:00-21:00
requests = honour

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

[rule uk.dc-optout]
summary  = A customer who asked not to be contacted by telephone, or not on a given number, is not called that way; a hit on the firm's own do-not-call list is such a request.
source   = FCA Handbook CONC 7.9 (requests about how to be contacted)
optout   = medium
list     = internal-dnc
required = no
