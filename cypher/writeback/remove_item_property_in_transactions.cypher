// Neo4j: remove an old embedding property from every Item node in one auto-commit query that
// commits every $batch rows (one label scan, where the paged form scans again per page).
// params: prop, props ({name: null}), batch
MATCH (n:Item)
WHERE n[$prop] IS NOT NULL
CALL { WITH n SET n += $props } IN TRANSACTIONS OF $batch ROWS
