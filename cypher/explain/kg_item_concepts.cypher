// The recommended item's concepts: where the bounded knowledge-graph search starts
// (graphrec.explain.kg_search). params: item, limit
MATCH (rec:Item {id: $item})-[h:HAS_CONCEPT]->(c:Concept)
RETURN c.id AS id, c.name AS name, c.kind AS kind, h.relation AS relation
ORDER BY id
LIMIT $limit
