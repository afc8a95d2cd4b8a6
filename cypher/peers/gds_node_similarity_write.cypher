// Jaccard similarity of items over their users, each item's $top_k most similar written back
// as (:Item)-[:GRAPHREC_SIMILAR {score}]->(:Item). params: name, top_k
CALL gds.nodeSimilarity.write($name, {topK: $top_k, similarityCutoff: 0.0, writeRelationshipType: 'GRAPHREC_SIMILAR', writeProperty: 'score'})
YIELD computeMillis, writeMillis, relationshipsWritten
RETURN computeMillis AS compute_millis, writeMillis AS write_millis, relationshipsWritten AS written
