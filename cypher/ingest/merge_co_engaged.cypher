// Neo4j's form of create_missing_co_engaged plus update_co_engaged: one CO_ENGAGED link per
// (source, target), merged and refreshed. row: {source_id, target_id, weight, shared}
UNWIND $rows AS row
MATCH (a:Item {id: row.source_id})
MATCH (b:Item {id: row.target_id})
MERGE (a)-[r:CO_ENGAGED]->(b)
SET r.weight = row.weight, r.shared = row.shared
