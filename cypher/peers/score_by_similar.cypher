// A user's candidates scored by the similarity links of their training items: the sum of
// GRAPHREC_SIMILAR scores from the items they interacted with (training edges only), their
// own training items excluded; the $limit best per user. params: users, limit
UNWIND $users AS uid
MATCH (u:User {id: uid})-[r:INTERACTED]->(i:Item)
WHERE r.graphrec_holdout IS NULL
WITH uid, collect(DISTINCT i) AS seen
UNWIND seen AS i
MATCH (i)-[s:GRAPHREC_SIMILAR]->(c:Item)
WITH uid, seen, c, sum(s.score) AS score
WHERE NOT c IN seen
WITH uid, c.id AS item, score
ORDER BY uid, score DESC, item
WITH uid, collect(item)[..$limit] AS items, collect(score)[..$limit] AS scores
RETURN uid AS user_id, items, scores
