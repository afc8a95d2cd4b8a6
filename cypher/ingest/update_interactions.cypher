// Refresh the properties of INTERACTED edges known to exist (a changed rating, a later timestamp).
// Both ends are bound by id first: a single path pattern is planned far slower on the embedded server.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
MATCH (u)-[r:INTERACTED {kind: row.kind}]->(i)
SET r.weight = row.weight, r.rating = row.rating, r.ts = row.ts, r.split = row.split
