// Every interaction in one result stream (the naive export the benchmark compares against).
MATCH (u:User)-[r:INTERACTED]->(i:Item)
RETURN u.id AS user_id, i.id AS item_id, r.kind AS kind, r.weight AS weight, r.ts AS ts
