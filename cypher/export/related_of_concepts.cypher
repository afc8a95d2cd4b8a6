// RELATED (KG) edges leaving the given concepts. params: ids
UNWIND $ids AS id
MATCH (h:Concept {id: id})-[r:RELATED]->(t:Concept)
RETURN h.id AS head_id, collect(t.id) AS tails, collect(r.relation) AS relations
