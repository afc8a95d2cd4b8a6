// Wait until every index is online (Neo4j; fails after $seconds). params: seconds
CALL db.awaitIndexes($seconds)
