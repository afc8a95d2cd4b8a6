// Interactions posted to the API: the user is created when new, the item must exist.
// One INTERACTED edge per (user, item, kind), as ingest keeps it; a repeat refreshes it.
// Both ends are bound by id before the edge is merged (the embedded server plans a single
// path pattern far slower). row: {user_id, item_id, kind, weight, rating, ts}
UNWIND $rows AS row
MERGE (u:User {id: row.user_id})
WITH u, row
MATCH (i:Item {id: row.item_id})
MERGE (u)-[r:INTERACTED {kind: row.kind}]->(i)
SET r.weight = row.weight, r.rating = row.rating, r.ts = row.ts
