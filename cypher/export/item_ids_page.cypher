// One page of items in id order. params: after ("" for the first page), limit
MATCH (i:Item)
WHERE i.id > $after
RETURN i.id AS id, i.title AS title
ORDER BY id
LIMIT $limit
