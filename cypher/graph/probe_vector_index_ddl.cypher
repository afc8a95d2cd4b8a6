// Fails on servers without CREATE VECTOR INDEX (Neo4j before 5.15, ArcadeDB). EXPLAIN plans
// the statement without running it: no index is created.
EXPLAIN CREATE VECTOR INDEX graphrec_probe IF NOT EXISTS
FOR (n:GraphrecProbe) ON (n.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: 2, `vector.similarity_function`: 'cosine'}}
