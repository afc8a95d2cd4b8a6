// Ingest's interactions on Neo4j: one INTERACTED edge per (user, item, kind), merged, so a
// driver retry of a batch whose commit succeeded adds nothing, and neither do the API's
// writes of the same keys during an ingest (Neo4j locks both ends while it merges).
// ArcadeDB uses the diff in Python plus create_interactions.cypher instead (its
// relationship MERGE runs at ~5-7k/s). row: {user_id, item_id, kind, weight, rating, ts, split}
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
MERGE (u)-[r:INTERACTED {kind: row.kind}]->(i)
SET r.weight = row.weight, r.rating = row.rating, r.ts = row.ts, r.split = row.split
