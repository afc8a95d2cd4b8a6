// A user's candidates scored by the similarity links of their training items: the sum of
// GRAPHREC_SIMILAR scores from the items they interacted with (training edges only), their
// own training items excluded; the $limit best per user. params: users, limit
// (GDS peers only, so Neo4j only: the exclusion is an existential subquery, not a list of
// seen items carried on every row, which made Neo4j's transaction memory run out.)
UNWIND $users AS uid
MATCH (u:User {id: uid})-[r:INTERACTED]->(i:Item)
WHERE r.graphrec_holdout IS NULL
WITH DISTINCT u, uid, i
MATCH (i)-[s:GRAPHREC_SIMILAR]->(c:Item)
WHERE NOT EXISTS { MATCH (u)-[t:INTERACTED]->(c) WHERE t.graphrec_holdout IS NULL }
WITH uid, c.id AS item, sum(s.score) AS score
ORDER BY uid, score DESC, item
WITH uid, collect(item)[..$limit] AS items, collect(score)[..$limit] AS scores
RETURN uid AS user_id, items, scores
