// Erase a user in one transaction: the node with its INTERACTED, HAS_ATTRIBUTE and
// RECOMMENDED relationships and its embedding properties. CO_ENGAGED counts that included
// them are recomputed by the next derivation. A second run matches nothing. params: id
MATCH (u:User {id: $id})
DETACH DELETE u
RETURN 1 AS deleted
