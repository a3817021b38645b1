# Oklahoma overlay on us-cc: applies to leads in Oklahoma.

[profile]
id           = us-ok
title        = Oklahoma, telephone solicitation
jurisdiction = US-OK
kind         = CC
overlay-of   = us-cc
regions      = US-OK

[rule us.ok]
summary = Oklahoma: calls only 08:00-20:00; at most 3 calls per 24 hours on the same subject.
source  = 15 O.S. 775C (Oklahoma Telephone Solicitation Act of 2022)
hours   = 08:00-20:00
cap     = 3 per 24h by tenant,subject
