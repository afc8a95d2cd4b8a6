// Record that a model version's RECOMMENDED edges are being written (readers still follow
// p.version). params: model, version, k
MERGE (p:Recommendations {model: $model})
SET p.pending_version = $version, p.pending_k = $k
