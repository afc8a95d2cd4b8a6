// Items most similar to one item by cosine similarity of a stored embedding property, scanned
// in Cypher (no vector index needed; the API uses its in-memory index instead).
// Neo4j's vector.similarity.cosine returns (1 + cos) / 2, ArcadeDB cos: graphrec.serving maps it
// back to cos with the capability probe (the order is the same either way).
// params: id (item id), prop (emb_<model>_v<version>), k
MATCH (a:Item {id: $id})
WITH a, a[$prop] AS v
WHERE v IS NOT NULL
MATCH (b:Item)
WHERE b.id <> a.id AND b[$prop] IS NOT NULL
WITH b, vector.similarity.cosine(v, b[$prop]) AS score
ORDER BY score DESC, b.id
LIMIT $k
RETURN b.id AS id, b.title AS title, score
