// Remove an old embedding property from User nodes, a page at a time. params: props ({name: null}), limit
MATCH (n:User)
WHERE n[$prop] IS NOT NULL
WITH n LIMIT $limit
SET n += $props
RETURN count(n) AS removed
