// Titles of the given items (for sentences). params: ids
UNWIND $ids AS id
MATCH (i:Item {id: id})
RETURN i.id AS id, i.title AS title
