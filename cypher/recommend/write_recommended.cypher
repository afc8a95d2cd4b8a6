// One batch of materialised recommendations, one transaction (a batch is written whole or
// not at all, which is what lets a re-run skip the users already done).
// params: model, version; rows: [{user_id, item_id, rank, score}]
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (i:Item {id: row.item_id})
CREATE (u)-[:RECOMMENDED {model: $model, version: $version, rank: row.rank, score: row.score}]->(i)
