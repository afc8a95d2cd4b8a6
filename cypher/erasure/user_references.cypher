// Everything in the graph that still names a user, for checks after an erasure: the node
// and relationships touching it. params: id
OPTIONAL MATCH (u:User {id: $id})
OPTIONAL MATCH (u)-[r]-()
RETURN count(DISTINCT u) AS nodes, count(r) AS relationships
