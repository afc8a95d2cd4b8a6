// k-nearest items by cosine of their FastRP embeddings, written back as
// (:Item)-[:GRAPHREC_SIMILAR {score}]->(:Item). params: name, top_k, seed
CALL gds.knn.write($name, {nodeLabels: ['Item'], nodeProperties: ['fastrp'], topK: $top_k, randomSeed: $seed, concurrency: 1, writeRelationshipType: 'GRAPHREC_SIMILAR', writeProperty: 'score'})
YIELD computeMillis, writeMillis, relationshipsWritten
RETURN computeMillis AS compute_millis, writeMillis AS write_millis, relationshipsWritten AS written
