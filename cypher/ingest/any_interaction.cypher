// Whether the graph holds any INTERACTED edge yet (decides the first-load fast path).
MATCH (:User)-[r:INTERACTED]->(:Item)
RETURN 1 AS found
LIMIT 1
