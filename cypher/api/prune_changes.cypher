// Delete feed entries made before `before` (server milliseconds). params: before, limit
MATCH (c:Change)
WHERE c.at < $before
WITH c LIMIT $limit
DELETE c
