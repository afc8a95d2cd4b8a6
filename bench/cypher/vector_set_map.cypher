// bench/engines.py: write one 64-d vector per Item in the map form of graphrec's write-back
// (cypher/writeback/set_item_embeddings.cypher): the property name is inside row.props.
UNWIND $rows AS row
MATCH (n:Item {id: row.id})
SET n += row.props
