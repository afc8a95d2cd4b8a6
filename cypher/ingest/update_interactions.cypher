// Refresh the properties of INTERACTED edges that already exist (a re-run, or a changed rating).
// Both ends are bound by id first: a single path pattern is planned far slower (bench/RESULTS.md).
UNWIND $rows AS row
MATCH (i:Item {id: row.item_id})
MATCH (u:User {id: row.user_id})
MATCH (i)<-[r:INTERACTED {kind: row.kind}]-(u)
SET r.weight = row.weight, r.rating = row.rating, r.ts = row.ts, r.split = row.split
