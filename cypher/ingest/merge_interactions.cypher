// Upsert one INTERACTED edge per (user, item, kind); a repeated row updates it in place.
// row: {user_id, item_id, kind, weight, rating, ts, split}
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
MERGE (u)-[r:INTERACTED {kind: row.kind}]->(i)
SET r.weight = row.weight, r.rating = row.rating, r.ts = row.ts, r.split = row.split
