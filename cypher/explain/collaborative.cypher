// user -> item they interacted with <- other users -> recommended item, one row per anchor
// interaction with how many other users connect it to the recommended item (and a few of
// their ids, which the API shows only to an admin who asks).
// The recommended item's users are collected first, then the user's items are expanded to
// their users and kept when in that set (the single pattern enumerated the user's whole
// two-hop neighbourhood).
// params: user, item, limit, max_ids
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})<-[:INTERACTED]-(other:User)
WHERE other <> u
WITH u, rec, collect(other) AS others
MATCH (u)-[r:INTERACTED]->(anchor:Item)<-[:INTERACTED]-(other:User)
WHERE other IN others AND anchor <> rec
WITH anchor, r, collect(DISTINCT other.id) AS ids
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       size(ids) AS people, ids[0..$max_ids] AS other_ids
ORDER BY people DESC, anchor_id
LIMIT $limit
