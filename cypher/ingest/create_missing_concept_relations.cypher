// KG triples between concepts: one RELATED edge per (head, relation, tail). row: {head_id, relation, tail_id}
UNWIND $rows AS row
MATCH (h:Concept {id: row.head_id})
MATCH (t:Concept {id: row.tail_id})
OPTIONAL MATCH (h)-[old:RELATED {relation: row.relation}]->(t)
WITH h, t, row, old
WHERE old IS NULL
CREATE (h)-[:RELATED {relation: row.relation}]->(t)
