// Whether a user exists (the API answers 404 for unknown users). params: id
MATCH (u:User {id: $id})
RETURN count(u) AS n
