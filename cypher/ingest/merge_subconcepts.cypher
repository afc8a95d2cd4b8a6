// Neo4j's form of create_missing_subconcepts: one SUBCONCEPT_OF edge per (child, parent),
// merged. row: {child_id, parent_id}
UNWIND $rows AS row
MATCH (c:Concept {id: row.child_id})
MATCH (p:Concept {id: row.parent_id})
MERGE (c)-[:SUBCONCEPT_OF]->(p)
