// Whether an item exists (the API answers 404 for unknown items). params: id
MATCH (i:Item {id: $id})
RETURN count(i) AS n
