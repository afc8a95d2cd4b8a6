// One HAS_CONCEPT edge per (item, concept, relation). row: {item_id, concept_id, relation, weight}
UNWIND $rows AS row
MATCH (i:Item {id: row.item_id})
MATCH (c:Concept {id: row.concept_id})
OPTIONAL MATCH (i)-[old:HAS_CONCEPT {relation: row.relation}]->(c)
WITH i, c, row, old
WHERE old IS NULL
CREATE (i)-[:HAS_CONCEPT {relation: row.relation, weight: row.weight}]->(c)
