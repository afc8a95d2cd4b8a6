// user -> item -> concept <- recommended item (shared genre, tag, author, ...).
// The recommended item's few concepts are bound first and the user's items are filtered
// against them: expanding the user's items' concepts towards the item (a genre can have
// thousands of items) took ~1 s per call on ml-latest-small, this form ~7 ms (bench/RESULTS.md).
// params: user, item, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})-[:HAS_CONCEPT]->(c:Concept)
WITH u, rec, collect(c) AS shared
MATCH (u)-[r:INTERACTED]->(anchor:Item)-[h:HAS_CONCEPT]->(c:Concept)
WHERE c IN shared AND anchor <> rec
WITH rec, r, anchor, h, c LIMIT $limit
MATCH (rec)-[h2:HAS_CONCEPT]->(c)
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       c.id AS concept_id, c.name AS concept_name, c.kind AS concept_kind,
       h.relation AS relation, h2.relation AS relation2
