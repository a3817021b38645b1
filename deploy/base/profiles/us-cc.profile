# United States — telemarketing (CC), federal rules (TSR and TCPA).
#
# State rules stack on this profile as overlays (us-fl, us-ok, us-md) for leads in those
# states. When number and postal code disagree, every candidate zone must allow the call and
# the overlays of every candidate state apply: the strictest wins.

[profile]
id           = us-cc
title        = United States, telemarketing
jurisdiction = US
kind         = CC

[rule us.ebr]
summary       = An established business relationship exempts from the National DNC Registry (not from the company's own list): 18 months after the last purchase, delivery or payment, 3 months after an inquiry or application. A do-not-call request to the company ends it.
source        = 16 CFR 310.4(b)(1)(iii)(B)(ii), 310.2(q); 47 CFR 64.1200(f)(5)
exemption     = ebr
purchase      = 18mo
inquiry       = 3mo
overridden-by = internal-dnc

[rule us.hours]
summary = Calls only from 08:00 to 21:00 local time of the called party.
source  = 16 CFR 310.4(c); 47 CFR 64.1200(c)(1)
hours   = 08:00-21:00

[rule us.dnc-national]
summary   = Numbers on the National Do Not Call Registry are not called, scrubbing against a copy no older than 31 days, unless an EBR or the person's express written agreement covers the call.
source    = 16 CFR 310.4(b)(1)(iii)(B), 310.4(b)(3)(iv); 47 CFR 64.1200(c)(2)
list      = us-dnc
max-age   = 31d
exempt-by = us.ebr written-consent

[rule us.dnc-internal]
summary       = The company's own do-not-call list is honoured (at once here; the law allows 10 business days) and kept 5 years. No EBR overrides it.
source        = 47 CFR 64.1200(d)(3),(6); 16 CFR 310.4(b)(1)(iii)(A)
list          = internal-dnc
honour-within = 10bd
retain        = 5y

[rule us.revoke]
summary = Consent may be revoked by any reasonable means ("STOP" and similar words revoke); autodialed or prerecorded calls stop until consent is given again.
source  = 47 CFR 64.1200(a)(10)
when    = autodialed prerecorded
revoke  = honour

[rule us.wireless-consent]
summary = Autodialed or prerecorded telemarketing calls to a mobile number need prior express written consent naming that number. An unknown line type counts as mobile.
source  = 47 CFR 64.1200(a)(2), (f)(9)
when    = mobile+autodialed mobile+prerecorded
consent = written-for-number

[rule us.reassigned]
summary        = Before relying on old consent, the Reassigned Numbers Database may be queried with the consent date (yes / no / no data); a "yes" voids the consent. A number is not reassigned until at least 45 days after disconnection.
source         = 47 CFR 64.1200(m)
reassigned     = rnd
disconnect-min = 45d

[rule us.abandon]
summary       = Abandoned calls at most 3% of live-answered calls per campaign per 30 days; a call is abandoned when no agent is connected within 2 s of the greeting, and then a message names the seller and a call-back number; unanswered calls ring at least 15 s (4 rings). Enforced by the dialer's pacing, not per call.
source        = 16 CFR 310.4(b)(1)(iv), 310.4(b)(4); 47 CFR 64.1200(a)(7)
max-rate      = 3%
period        = 30d
agent-within  = 2s
ring-at-least = 15s
message       = required

[rule us.state-holidays]
summary  = Some states (AL, LA, MS, RI, UT) forbid telemarketing on their state holidays.
source   = state statutes as reported by secondary sources
status   = unconfirmed
holidays = us-states

[rule us.b2b]
summary       = Calls to businesses are exempt from the TSR's and the TCPA's residential rules (National Do Not Call Registry, calling hours), except calls selling nondurable office or cleaning supplies; in a campaign declared for businesses (callees = business). The TCPA's consent for autodialed or prerecorded calls to wireless numbers, the company's own list and the abandon budget still apply; state rules stay. A sole trader is read as a consumer (the stricter reading).
source        = 16 CFR 310.6(b)(7); 47 CFR 64.1200(c) (residential subscribers), 64.1200(a)(1)(iii)
callee        = business
lifts         = us.dnc-national us.hours
except-sector = office-supplies cleaning-supplies

[rule us.b2b-hours]
summary = Calls to businesses, which the TSR's and the TCPA's calling hours do not bind (us.b2b), keep the same window, 08:00-21:00 local time, as a house policy: no floor calls a business at night. A campaign may narrow it.
source  = house policy; 16 CFR 310.4(c) and 47 CFR 64.1200(c)(1) bind calls to consumers only
basis   = policy
callee  = business
hours   = 08:00-21:00
