// CO_ENGAGED edges leaving the given items. params: ids
UNWIND $ids AS id
MATCH (a:Item {id: id})-[r:CO_ENGAGED]->(b:Item)
RETURN a.id AS source_id, collect(b.id) AS targets, collect(coalesce(r.weight, 1.0)) AS weights
