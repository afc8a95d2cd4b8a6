// The naive export the benchmark compares against: one record per relationship.
MATCH (u:User)-[r:INTERACTED]->(i:Item)
RETURN u.id AS user_id, i.id AS item_id, r.weight AS weight, r.ts AS ts
