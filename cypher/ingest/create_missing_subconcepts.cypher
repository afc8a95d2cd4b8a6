// Concept hierarchy edges, child to parent. row: {child_id, parent_id}
UNWIND $rows AS row
MATCH (c:Concept {id: row.child_id})
MATCH (p:Concept {id: row.parent_id})
OPTIONAL MATCH (c)-[old:SUBCONCEPT_OF]->(p)
WITH c, p, old
WHERE old IS NULL
CREATE (c)-[:SUBCONCEPT_OF]->(p)
