// An erasure's part in the change feed: delete the entries that name the user. params: id
MATCH (c:Change)
WHERE $id IN c.users
DELETE c
