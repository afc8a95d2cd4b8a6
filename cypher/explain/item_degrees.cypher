// Interaction counts of the given items (an explanation anchor's weight in the user's score).
// params: ids
UNWIND $ids AS id
MATCH (i:Item {id: id})<-[r:INTERACTED]-(:User)
RETURN id, count(r) AS degree
