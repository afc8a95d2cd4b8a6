// Up to $limit RECOMMENDED edges of a model whose version is not in $keep (run until it
// returns 0). params: model, keep, limit
MATCH (:User)-[r:RECOMMENDED]->(:Item)
WHERE r.model = $model AND NOT r.version IN $keep
WITH r LIMIT $limit
WITH collect(r) AS old
FOREACH (r IN old | DELETE r)
RETURN size(old) AS deleted
