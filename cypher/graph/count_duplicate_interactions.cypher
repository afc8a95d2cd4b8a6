// (user, item, kind) keys held by more than one INTERACTED edge: 0 unless --keep-duplicates.
MATCH (u:User)-[r:INTERACTED]->(i:Item)
WITH u, i, r.kind AS kind, count(r) AS edges
WHERE edges > 1
RETURN count(*) AS n
