// user -> attribute concept <- other users with that attribute -> recommended item.
// params: user, item, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})
MATCH (u)-[a:HAS_ATTRIBUTE]->(c:Concept)<-[:HAS_ATTRIBUTE]-(other:User)-[:INTERACTED]->(rec)
WHERE other <> u
RETURN c.id AS concept_id, c.name AS concept_name, c.kind AS concept_kind,
       a.relation AS relation, count(other) AS others
ORDER BY others DESC
LIMIT $limit
