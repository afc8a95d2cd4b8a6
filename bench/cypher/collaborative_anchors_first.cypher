// A candidate form of explain/collaborative (same rows), measured by
// bench/collaborative_forms.py: the user's items are collected first (a user has tens of
// items), then the recommended item's users are expanded to their items and kept when in
// that list; the user's interaction with each anchor is matched again after grouping.
// params: user, item, limit, max_ids
MATCH (u:User {id: $user})-[:INTERACTED]->(anchor:Item)
WHERE anchor.id <> $item
WITH u, collect(DISTINCT anchor) AS anchors
MATCH (rec:Item {id: $item})<-[:INTERACTED]-(other:User)-[:INTERACTED]->(anchor:Item)
WHERE other <> u AND anchor IN anchors
WITH u, anchor, collect(DISTINCT other.id) AS ids
MATCH (u)-[r:INTERACTED]->(anchor)
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       size(ids) AS people, ids[0..$max_ids] AS other_ids
ORDER BY people DESC, anchor_id
LIMIT $limit
