// Create the INTERACTED edges that do not exist yet; one edge per (user, item, kind).
// Rows arrive de-duplicated on that key. OPTIONAL MATCH + CREATE instead of MERGE:
// same result for a single writer, and several times faster on the embedded server
// (bench/RESULTS.md). Existing edges are refreshed by update_interactions.
// The existence check expands from the item: items have fewer interactions than
// users in typical logs, and ArcadeDB expands from the first node it binds.
// row: {user_id, item_id, kind, weight, rating, ts, split}
UNWIND $rows AS row
MATCH (i:Item {id: row.item_id})
MATCH (u:User {id: row.user_id})
OPTIONAL MATCH (i)<-[old:INTERACTED {kind: row.kind}]-(u)
WITH u, i, row, old
WHERE old IS NULL
CREATE (u)-[:INTERACTED {kind: row.kind, weight: row.weight, rating: row.rating, ts: row.ts, split: row.split}]->(i)
