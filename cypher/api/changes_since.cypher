// A page of the change feed after the cursor (stamp `since` in server milliseconds, then id
// `after_id`), oldest first. params: since, after_id ('' for the first page), limit
MATCH (c:Change)
WHERE c.at > $since OR (c.at = $since AND c.id > $after_id)
RETURN c.id AS id, c.at AS at, c.kind AS kind, c.origin AS origin, c.payload AS payload
ORDER BY at, id
LIMIT $limit
