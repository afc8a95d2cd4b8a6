// Item-to-item collaborative filtering as in Neo4j's recommendation examples ("users who
// interacted with what you did also interacted with"), over training interactions only
// (edges marked graphrec_holdout are invisible). For each user of the batch, the $limit
// items reached most often through u -> item <- other user -> candidate, the user's own
// training items excluded; ties broken by item id.
// The paths are counted per other user first (how many of u's items they share), then
// spread over that user's items: the same counts as enumerating every path, with far fewer
// rows (11 s per ml-latest-small user the path-by-path way, on Neo4j).
// params: users ([ids]), limit
UNWIND $users AS uid
MATCH (u:User {id: uid})-[r0:INTERACTED]->(s:Item)
WHERE r0.graphrec_holdout IS NULL
WITH u, uid, collect(DISTINCT s) AS seen
UNWIND seen AS i
MATCH (i)<-[r2:INTERACTED]-(v:User)
WHERE v <> u AND r2.graphrec_holdout IS NULL
WITH uid, seen, v, count(*) AS shared
MATCH (v)-[r3:INTERACTED]->(c:Item)
WHERE r3.graphrec_holdout IS NULL AND NOT c IN seen
WITH uid, c.id AS item, sum(shared) AS score
ORDER BY uid, score DESC, item
WITH uid, collect(item)[..$limit] AS items, collect(score)[..$limit] AS scores
RETURN uid AS user_id, items, scores
