// Refresh derived item-item links that already exist.
UNWIND $rows AS row
MATCH (a:Item {id: row.source_id})
MATCH (b:Item {id: row.target_id})
MATCH (a)-[r:CO_ENGAGED]->(b)
SET r.weight = row.weight, r.shared = row.shared
