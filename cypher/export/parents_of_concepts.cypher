// SUBCONCEPT_OF edges leaving the given concepts. params: ids
UNWIND $ids AS id
MATCH (c:Concept {id: id})-[:SUBCONCEPT_OF]->(p:Concept)
RETURN c.id AS child_id, collect(p.id) AS parents
