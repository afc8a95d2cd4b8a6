// user -> item they interacted with <- other user -> recommended item.
// params: user, item, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})
MATCH (u)-[r:INTERACTED]->(anchor:Item)<-[:INTERACTED]-(other:User)-[:INTERACTED]->(rec)
WHERE other <> u AND anchor <> rec
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       other.id AS other_id
LIMIT $limit
