# France — canvassing (CC): unsolicited calls to consumers to sell goods or services.
#
# Every rule cites its legal source. Times are the called person's local time (overseas
# departments have their own zones). Rolling windows are exact durations from the instant of
# each call. See docs/rules.md for the format.

[profile]
id           = fr-cc
title        = France, telephone canvassing
jurisdiction = FR
kind         = CC

[rule fr.contract-exempt]
summary   = Calls made within a current contract, about its subject, are exempt from the consent rule (and the rules that defer to it).
source    = Code de la consommation L223-1
exemption = contract

[rule fr.consent]
summary   = From 11 August 2026 canvassing needs the person's prior consent (free, specific, informed, unambiguous, revocable, by a positive act), which the caller must be able to prove: source, time, wording and scope, revocation.
source    = Code de la consommation L223-1 as amended by loi 2025-594 of 30 June 2025, art. 13
from      = 2026-08-11
consent   = required
exempt-by = fr.contract-exempt

[rule fr.bloctel]
summary   = Until 10 August 2026, numbers on the Bloctel opposition list may not be canvassed; a file cleaned through Bloctel is valid 30 days. Clients who keep their last Bloctel results as an extra suppression list after that date add a campaign rule with list = bloctel.
source    = Code de la consommation L223-1 (before loi 2025-594), R223-6
until     = 2026-08-10
list      = bloctel
max-age   = 30d
exempt-by = fr.contract-exempt

[rule fr.days]
summary  = No canvassing on Saturday, Sunday or a public holiday.
source   = Code de la consommation D223-9 (décret 2022-1313 of 13 October 2022)
days     = mon-fri
holidays = fr

[rule fr.hours]
summary = Canvassing calls only from 10:00 to 13:00 and from 14:00 to 20:00.
source  = Code de la consommation D223-9 (décret 2022-1313 of 13 October 2022)
hours   = 10:00-13:00 14:00-20:00

[rule fr.freq]
summary = At most 4 calls or attempts by one professional (its subcontractors included) to one consumer in any 30 calendar days.
source  = Code de la consommation D223-9 (décret 2022-1313 of 13 October 2022)
cap     = 4 per 30d by tenant

[rule fr.refusal]
summary = After the consumer refuses, no call or attempt by that professional for 60 calendar days.
source  = Code de la consommation D223-9 (décret 2022-1313 of 13 October 2022)
after   = refusal 60d by tenant

[rule fr.cli]
summary    = Automated calling systems present a number from the ranges reserved for them; mobile (06, 07) numbers are forbidden as caller id.
source     = ARCEP décision 2022-1583
when       = autodialed
cli        = valid
cli-allow  = +33162 +33163 +33270 +33271 +33377 +33378 +33424 +33425 +33568 +33569 +33948 +33949 +339475 +339476 +339477 +339478 +339479
cli-forbid = +336 +337

[rule fr.sector-ban]
summary        = No canvassing for energy renovation or home adaptation, unless within a current contract.
source         = loi 2025-594 of 30 June 2025, art. 13
sectors-banned = energy-renovation home-adaptation
exempt-by      = fr.contract-exempt

[rule fr.opposition]
summary = A person who told this professional not to call again (its internal opposition list) is not canvassed. Not in the calling-rules reference table; it is the right to object to direct marketing.
source  = RGPD (Regulation (EU) 2016/679) art. 21(2)-(3)
list    = internal-dnc

[rule fr.b2b]
summary = The consumer code's canvassing rules (consent or Bloctel, days, hours, 4 calls in 30 days, 60 days after a refusal) protect consumers: a call to a business about its professional activity is outside them, in a campaign declared for businesses (callees = business). The right to object (fr.opposition), the caller-id ranges and the sector ban still apply. A sole trader is read as a consumer (the stricter reading).
source  = Code de la consommation L223-1, D223-8, D223-9 (scope: "consommateur"); CNIL guidance on B2B prospecting
callee  = business
lifts   = fr.consent fr.bloctel fr.days fr.hours fr.freq fr.refusal

[rule fr.b2b-hours]
summary  = Calls to businesses, which the consumer code's days and hours do not bind (fr.b2b), keep business hours: Monday to Friday 08:00-20:00, not on public holidays. A house window, not law, so that no floor calls a business at night; a campaign may narrow it.
source   = house policy (business hours); D223-9 binds calls to consumers only
basis    = policy
callee   = business
days     = mon-fri
holidays = fr
hours    = 08:00-20:00
