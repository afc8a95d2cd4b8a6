// A new item from the API with its concepts (merged: a new concept is created), its
// HAS_CONCEPT edges and its cold-start embedding properties, in one transaction.
// CREATE, not MERGE: an existing id fails on the uniqueness constraint (the API answers 409).
// params: id, title, props ({emb_<model>_v<n>: [floats]}), concepts ([{id, kind, name, relation, weight}])
CREATE (i:Item {id: $id})
SET i.title = $title, i += $props
WITH i
UNWIND $concepts AS c
MERGE (k:Concept {id: c.id})
ON CREATE SET k.kind = c.kind, k.name = c.name
CREATE (i)-[:HAS_CONCEPT {relation: c.relation, weight: c.weight}]->(k)
