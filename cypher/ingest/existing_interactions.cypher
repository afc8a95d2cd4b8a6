// The INTERACTED edges the given users already have, one row per user with parallel lists.
// Ingest compares them with a batch in Python: new keys are created, changed ones updated,
// unchanged ones skipped. Reading lists is far cheaper on the server than one existence
// check per row (bench/RESULTS.md). params: ids (user ids)
UNWIND $ids AS id
MATCH (u:User {id: id})-[r:INTERACTED]->(i:Item)
// One list per edge: collect() drops nulls, and rating/ts/split may be null.
RETURN u.id AS user_id,
       collect([i.id, r.kind, r.weight, r.rating, r.ts, r.split]) AS edges
