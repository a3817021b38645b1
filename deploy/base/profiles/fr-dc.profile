# France — amicable debt collection (DC): calls to debtors on an existing debt.
#
# No statutory calling window exists for collection calls; repeated malicious calls are an
# offence. The window and caps below are a conservative default (unconfirmed), which a
# campaign may narrow further but never widen.

[profile]
id           = fr-dc
title        = France, amicable debt collection
jurisdiction = FR
kind         = DC

[rule fr.dc-hours]
summary  = Conservative window for collection calls (08:00-20:00, Monday to Saturday, no public holiday) and a frequency cap per debt.
source   = Code pénal 222-16 (repeated malicious calls); window and caps are a conservative default, not a statutory figure
status   = unconfirmed
basis    = policy
hours    = 08:00-20:00
days     = mon-sat
holidays = fr
cap      = 2 per 24h by tenant,debt
cap      = 7 per 7d by tenant,debt

[rule fr.dc-reference]
summary = Every contact after the first letter repeats that letter's reference and date; the collector identifies itself and the creditor. A call needs the first letter on record.
source  = Code des procédures civiles d'exécution R124-4
letter  = required

[rule fr.dc-payments]
summary = Every payment, even partial, is reported to the creditor (unless under an instalment plan the creditor already knows). Not a per-call check: the promise and payment services apply it.
source  = Code des procédures civiles d'exécution R124-5
report  = every-payment

[rule fr.dc-optout]
summary  = A debtor who asked not to be called (or not on a given number, or only at given times) is not called that way; a hit on the collector's own opposition list is such a request. No statutory opt-out was found for amicable collection: calls against the person's stated wish risk the offence of repeated malicious calls.
source   = Code pénal 222-16 (repeated malicious calls); a conservative house rule, not a statutory figure
status   = unconfirmed
basis    = policy
optout   = medium
list     = internal-dnc
required = no
requests = honour
