// Mark held-out interactions so that in-database peers train on the training split only.
// Every INTERACTED edge between the pair is marked (all kinds). Idempotent.
// params: rows ([{user, item}])
UNWIND $rows AS row
MATCH (u:User {id: row.user})-[r:INTERACTED]->(i:Item {id: row.item})
SET r.graphrec_holdout = true
