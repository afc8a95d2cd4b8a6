// Nearest items through Neo4j's native vector index (Neo4j 5.13+; score = (1 + cos) / 2).
// params: index (vector index name), vector, id (the item itself, left out), k
CALL db.index.vector.queryNodes($index, $k + 1, $vector) YIELD node, score
WITH node, score
WHERE node.id <> $id
RETURN node.id AS id, node.title AS title, score
ORDER BY score DESC
LIMIT $k
