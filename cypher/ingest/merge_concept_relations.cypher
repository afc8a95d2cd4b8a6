// Neo4j's form of create_missing_concept_relations: one RELATED edge per
// (head, relation, tail), merged. row: {head_id, relation, tail_id}
UNWIND $rows AS row
MATCH (h:Concept {id: row.head_id})
MATCH (t:Concept {id: row.tail_id})
MERGE (h)-[:RELATED {relation: row.relation}]->(t)
