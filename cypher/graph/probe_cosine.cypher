// Orthogonal vectors: 0.5 where the server scales the cosine to (1 + cos) / 2 (Neo4j), 0 where
// it returns the cosine itself (ArcadeDB).
RETURN vector.similarity.cosine([1.0, 0.0], [0.0, 1.0]) AS c
