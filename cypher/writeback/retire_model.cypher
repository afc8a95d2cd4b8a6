// Mark a model version whose embeddings were removed.
MATCH (m:Model {id: $id})
SET m.active = false, m.retired = true
