// One batch of materialised recommendations, one transaction (a batch is written whole or
// not at all, which is what lets a re-run skip the users already done). Grouped by user,
// so each user is matched once. params: model, version;
// users: [{user_id, items: [{item_id, rank, score}]}]
UNWIND $users AS row
MATCH (u:User {id: row.user_id})
UNWIND row.items AS rec
MATCH (i:Item {id: rec.item_id})
CREATE (u)-[:RECOMMENDED {model: $model, version: $version, rank: rec.rank, score: rec.score}]->(i)
