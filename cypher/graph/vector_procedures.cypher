// Non-zero when the server has Neo4j's native vector index (Neo4j 5.13+).
SHOW PROCEDURES YIELD name
WHERE name = 'db.index.vector.queryNodes'
RETURN count(name) AS n
