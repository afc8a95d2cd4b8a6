// One page of users in id order with the items each interacted with (every user of the page
// is returned, with an empty list when it has none, so paging on the last id is exact).
// params: after ("" for the first page), limit
MATCH (u:User)
WHERE u.id > $after
WITH u
ORDER BY u.id
LIMIT $limit
OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item)
RETURN u.id AS id, collect(DISTINCT i.id) AS items
ORDER BY id
