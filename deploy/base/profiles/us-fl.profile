# Florida overlay on us-cc: applies to leads in Florida (by state or postal code).

[profile]
id           = us-fl
title        = Florida, telephone solicitation
jurisdiction = US-FL
kind         = CC
overlay-of   = us-cc
regions      = US-FL

[rule us.fl]
summary = Florida: calls only 08:00-20:00; at most 3 calls per 24 hours on the same subject, from any number.
source  = Fla. Stat. 501.616(6)
hours   = 08:00-20:00
cap     = 3 per 24h by tenant,subject
