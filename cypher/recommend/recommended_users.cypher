// Users who already hold their rank-1 RECOMMENDED edge of one model version (a batch is
// all-or-nothing, so they hold all of them). params: model, version
MATCH (u:User)-[r:RECOMMENDED]->(:Item)
WHERE r.model = $model AND r.version = $version AND r.rank = 1
RETURN u.id AS id
