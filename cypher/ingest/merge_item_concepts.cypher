// Neo4j's form of create_missing_item_concepts plus update_item_concepts: one HAS_CONCEPT edge
// per (item, concept, relation), merged, so a driver retry of a committed batch adds nothing.
// row: {item_id, concept_id, relation, weight}
UNWIND $rows AS row
MATCH (i:Item {id: row.item_id})
MATCH (c:Concept {id: row.concept_id})
MERGE (i)-[r:HAS_CONCEPT {relation: row.relation}]->(c)
SET r.weight = row.weight
