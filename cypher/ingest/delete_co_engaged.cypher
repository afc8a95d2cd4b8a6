// Derived item-item links the last derivation no longer produced (after an erasure, or
// when the interactions changed). rows: [{source_id, target_id}]
UNWIND $rows AS row
MATCH (a:Item {id: row.source_id})-[r:CO_ENGAGED]->(b:Item {id: row.target_id})
DELETE r
