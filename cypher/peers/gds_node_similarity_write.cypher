// Jaccard similarity of items over their users, each item's $top_k most similar written back
// as (:Item)-[:GRAPHREC_SIMILAR {score}]->(:Item); pairs sharing no user (similarity 0) are
// not written (GDS's default similarityCutoff). params: name, top_k
CALL gds.nodeSimilarity.write($name, {topK: $top_k, writeRelationshipType: 'GRAPHREC_SIMILAR', writeProperty: 'score'})
YIELD computeMillis, writeMillis, relationshipsWritten
RETURN computeMillis AS compute_millis, writeMillis AS write_millis, relationshipsWritten AS written
