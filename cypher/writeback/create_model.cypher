// Record a model version, inactive until its embeddings are all written.
MERGE (m:Model {id: $id})
SET m.name = $name, m.version = $version, m.property = $property, m.dim = $dim,
    m.trained_at = $trained_at, m.params = $params, m.metrics = $metrics, m.history = $history,
    m.active = false,
    m.labels = $labels
