// One batch of the engine-neutral reset: up to $limit nodes with their relationships.
MATCH (n)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
