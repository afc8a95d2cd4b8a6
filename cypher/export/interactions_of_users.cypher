// The interactions of the given users, one row per user with parallel lists.
// params: ids, kinds (list or null = all), ts_from / ts_to (seconds or null = open)
UNWIND $ids AS id
MATCH (u:User {id: id})-[r:INTERACTED]->(i:Item)
WHERE ($kinds IS NULL OR r.kind IN $kinds)
  AND ($ts_from IS NULL OR r.ts >= $ts_from)
  AND ($ts_to IS NULL OR r.ts < $ts_to)
RETURN u.id AS user_id,
       collect(i.id) AS items,
       collect(coalesce(r.weight, 1.0)) AS weights,
       collect(coalesce(r.ts, 0)) AS ts,
       collect(coalesce(r.split, '')) AS splits
