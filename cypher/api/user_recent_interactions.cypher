// A user's most recent interactions, newest first (no time last; ties by item id, kind).
// params: id, limit
MATCH (:User {id: $id})-[r:INTERACTED]->(i:Item)
RETURN i.id AS item_id, i.title AS title, r.kind AS kind, r.ts AS ts, r.rating AS rating
ORDER BY coalesce(r.ts, -1) DESC, item_id, kind
LIMIT $limit
