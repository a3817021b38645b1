# Maryland overlay on us-cc: applies to leads in Maryland.

[profile]
id           = us-md
title        = Maryland, telephone solicitation
jurisdiction = US-MD
kind         = CC
overlay-of   = us-cc
regions      = US-MD

[rule us.md]
summary = Maryland: calls only 08:00-20:00; at most 3 calls per 24 hours on the same subject.
source  = Md. Code, Com. Law 14-4502 (Stop the Spam Calls Act of 2023)
hours   = 08:00-20:00
cap     = 3 per 24h by tenant,subject
