// A user's interaction count and latest interaction time; no row for an unknown user
// (grouped by the user, so an empty match aggregates to nothing). params: id
MATCH (u:User {id: $id})
OPTIONAL MATCH (u)-[r:INTERACTED]->(:Item)
RETURN u.id AS id, count(r) AS interactions, max(r.ts) AS last_ts
