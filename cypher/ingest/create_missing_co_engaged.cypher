// Derived item-item links. row: {source_id, target_id, weight, shared}
UNWIND $rows AS row
MATCH (a:Item {id: row.source_id})
MATCH (b:Item {id: row.target_id})
OPTIONAL MATCH (a)-[old:CO_ENGAGED]->(b)
WITH a, b, row, old
WHERE old IS NULL
CREATE (a)-[:CO_ENGAGED {weight: row.weight, shared: row.shared}]->(b)
