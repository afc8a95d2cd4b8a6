// One page of user ids in id order. params: after ("" for the first page), limit
MATCH (u:User)
WHERE u.id > $after
RETURN u.id AS id
ORDER BY id
LIMIT $limit
