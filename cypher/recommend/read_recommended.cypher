// A user's materialised recommendations of a model, current version only, best first
// (the reader's query the README shows). params: model, user
MATCH (p:Recommendations {model: $model})
MATCH (:User {id: $user})-[r:RECOMMENDED]->(i:Item)
WHERE r.model = p.model AND r.version = p.version
RETURN i.id AS item_id, r.rank AS rank, r.score AS score
ORDER BY r.rank
