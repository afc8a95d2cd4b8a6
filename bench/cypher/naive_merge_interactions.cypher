// The naive form the benchmark compares against: one MERGE per relationship.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
MERGE (u)-[r:INTERACTED {kind: row.kind}]->(i)
SET r.weight = row.weight, r.rating = row.rating, r.ts = row.ts, r.split = row.split
