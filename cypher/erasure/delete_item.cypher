// Erase an item in one transaction: the node goes with its INTERACTED, HAS_CONCEPT,
// CO_ENGAGED and RECOMMENDED relationships and its embedding properties (its concepts
// stay: other items share them). A second run matches nothing. params: id
MATCH (i:Item {id: $id})
DETACH DELETE i
RETURN 1 AS deleted
