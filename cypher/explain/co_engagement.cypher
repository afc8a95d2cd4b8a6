// user -> item -[CO_ENGAGED]- recommended item (items many users engage with together).
// params: user, item, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})
MATCH (u)-[r:INTERACTED]->(anchor:Item)-[ce:CO_ENGAGED]-(rec)
WHERE anchor <> rec
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       ce.weight AS link_weight, ce.shared AS shared
LIMIT $limit
