// Set one embedding property on Concept nodes. The property name is inside each row's
// map (row.props = {emb_<model>_v<version>: [floats]}), so no name is spliced into Cypher.
UNWIND $rows AS row
MATCH (n:Concept {id: row.id})
SET n += row.props
