# United States — debt collection (DC): FDCPA and Regulation F, with the TCPA where it
# reaches collection calls (autodialed or prerecorded calls to consenting persons).

[profile]
id           = us-dc
title        = United States, debt collection
jurisdiction = US
kind         = DC

[rule us.hours]
summary = No collection call before 08:00 or after 21:00 local time of the consumer (presumed inconvenient).
source  = FDCPA 15 USC 1692c(a)(1); 12 CFR 1006.6(b)(1)(i); 47 CFR 64.1200(c)(1)
hours   = 08:00-21:00

[rule us.regf-7in7]
summary = Presumed harassment above 7 call attempts in 7 consecutive days about a particular debt, or any call within 7 days after a telephone conversation about that debt.
source  = 12 CFR 1006.14(b)(2)
cap     = 7 per 7d by tenant,debt
after   = conversation 7d by tenant,debt

[rule us.revoke]
summary = Consent may be revoked by any reasonable means; autodialed or prerecorded calls stop until consent is given again.
source  = 47 CFR 64.1200(a)(10)
when    = autodialed prerecorded
revoke  = honour

[rule us.reassigned]
summary        = A consent relied on is void when the Reassigned Numbers Database reports the number reassigned since the consent date.
source         = 47 CFR 64.1200(m)
reassigned     = rnd
disconnect-min = 45d

[rule us.dc-cease]
summary = After the consumer notifies the collector that they refuse to pay a debt or wish communication to cease, no further call about that debt (the statute's narrow exceptions are written notices, not calls). The request counts from the instant it was received, whatever its channel: the statute says "in writing", the stricter reading honours every channel.
source  = FDCPA 15 USC 1692c(c)
optout  = cease refuse-to-pay

[rule us.dc-medium]
summary  = A person who asked the collector not to use a medium (calls) or a specific telephone number is not called through it; a hit on the collector's own do-not-call list is such a request.
source   = 12 CFR 1006.14(h)
optout   = medium
list     = internal-dnc
required = no

[rule us.dc-times]
summary  = No call at a time the consumer said is inconvenient: when the consumer named the times to be called, every other time is off limits (from the instant of the request).
source   = 12 CFR 1006.6(b)(1)(i); FDCPA 15 USC 1692c(a)(1)
requests = honour
