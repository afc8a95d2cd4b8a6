// One hop of a neighbourhood: the users who interacted with the given items. params: ids
UNWIND $ids AS id
MATCH (u:User)-[:INTERACTED]->(:Item {id: id})
RETURN DISTINCT u.id AS id
