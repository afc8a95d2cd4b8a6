// One page of concepts in id order. params: after, limit
MATCH (c:Concept)
WHERE c.id > $after
RETURN c.id AS id, c.kind AS kind, c.name AS name
ORDER BY id
LIMIT $limit
