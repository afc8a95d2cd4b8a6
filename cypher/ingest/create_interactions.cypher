// Create one INTERACTED edge per row. Used for rows known to be new (ingest compared them
// with the graph, or the graph had no interactions yet) and for --keep-duplicates.
// row: {user_id, item_id, kind, weight, rating, ts, split}
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
CREATE (u)-[:INTERACTED {kind: row.kind, weight: row.weight, rating: row.rating, ts: row.ts, split: row.split}]->(i)
