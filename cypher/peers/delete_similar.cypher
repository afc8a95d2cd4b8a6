// Delete a bounded batch of the peers' GRAPHREC_SIMILAR links; returns how many.
// params: limit
MATCH (:Item)-[s:GRAPHREC_SIMILAR]->(:Item)
WITH s
LIMIT $limit
DELETE s
RETURN count(*) AS deleted
