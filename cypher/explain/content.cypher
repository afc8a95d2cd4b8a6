// user -> item -> concept <- recommended item (shared genre, tag, author, ...).
// params: user, item, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})
MATCH (u)-[r:INTERACTED]->(anchor:Item)-[h:HAS_CONCEPT]->(c:Concept)<-[h2:HAS_CONCEPT]-(rec)
WHERE anchor <> rec
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       c.id AS concept_id, c.name AS concept_name, c.kind AS concept_kind,
       h.relation AS relation, h2.relation AS relation2
LIMIT $limit
