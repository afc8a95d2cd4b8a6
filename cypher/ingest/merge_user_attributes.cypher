// Neo4j's form of create_missing_user_attributes: one HAS_ATTRIBUTE edge per
// (user, concept, relation), merged. row: {user_id, concept_id, relation}
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (c:Concept {id: row.concept_id})
MERGE (u)-[:HAS_ATTRIBUTE {relation: row.relation}]->(c)
