// --keep-duplicates: every log row becomes its own INTERACTED edge.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
CREATE (u)-[:INTERACTED {kind: row.kind, weight: row.weight, rating: row.rating, ts: row.ts, split: row.split}]->(i)
