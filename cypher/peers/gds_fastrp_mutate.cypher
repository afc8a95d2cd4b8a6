// FastRP node embeddings of users and items, kept in the in-memory graph as 'fastrp'.
// params: name, dim, weights (iteration weights), seed
CALL gds.fastRP.mutate($name, {embeddingDimension: $dim, iterationWeights: $weights, randomSeed: $seed, mutateProperty: 'fastrp'})
YIELD computeMillis, mutateMillis
RETURN computeMillis AS compute_millis, mutateMillis AS mutate_millis
