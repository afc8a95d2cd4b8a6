// One hop of a neighbourhood: the items the given users interacted with. params: ids
UNWIND $ids AS id
MATCH (:User {id: id})-[:INTERACTED]->(i:Item)
RETURN DISTINCT i.id AS id
