// Remove the held-out marks again, a bounded batch at a time; returns how many were cleared.
// params: limit
MATCH ()-[r:INTERACTED]->()
WHERE r.graphrec_holdout IS NOT NULL
WITH r
LIMIT $limit
REMOVE r.graphrec_holdout
RETURN count(r) AS cleared
