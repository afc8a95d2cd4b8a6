// How many interactions carry a held-out mark (0 once a peer run has cleaned up).
MATCH ()-[r:INTERACTED]->()
WHERE r.graphrec_holdout IS NOT NULL
RETURN count(r) AS n
