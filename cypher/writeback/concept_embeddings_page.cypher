// One page of Concept embeddings for a property, in id order. params: prop, after, limit
MATCH (n:Concept)
WHERE n.id > $after AND n[$prop] IS NOT NULL
WITH n ORDER BY n.id LIMIT $limit
RETURN collect(n.id) AS ids, collect(n[$prop]) AS vectors
