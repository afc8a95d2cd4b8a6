// Every concept of every item the user interacted with (the recommended item left out), with
// the anchor item it came from: the set the bounded knowledge-graph search tries to reach.
// Linear in the user's interactions. params: user, item
MATCH (u:User {id: $user})-[r:INTERACTED]->(anchor:Item)-[h:HAS_CONCEPT]->(c:Concept)
WHERE anchor.id <> $item
RETURN c.id AS concept_id, anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts, h.relation AS relation
