// One page of interactions, keyed on the user's business id for stable paging.
// params: after (last user id of the previous page, "" for the first), limit (users per page)
MATCH (u:User)
WHERE u.id > $after
WITH u ORDER BY u.id LIMIT $limit
MATCH (u)-[r:INTERACTED]->(i:Item)
RETURN u.id AS user_id, i.id AS item_id, r.kind AS kind, r.weight AS weight, r.ts AS ts
