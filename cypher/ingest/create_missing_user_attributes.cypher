// One HAS_ATTRIBUTE edge per (user, concept, relation). row: {user_id, concept_id, relation}
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (c:Concept {id: row.concept_id})
OPTIONAL MATCH (u)-[old:HAS_ATTRIBUTE {relation: row.relation}]->(c)
WITH u, c, row, old
WHERE old IS NULL
CREATE (u)-[:HAS_ATTRIBUTE {relation: row.relation}]->(c)
