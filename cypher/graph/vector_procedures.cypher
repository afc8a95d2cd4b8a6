// Procedures that name optional features: the vector index (db.index.vector.*) and plugins.
SHOW PROCEDURES YIELD name
WHERE name STARTS WITH 'db.index.vector.' OR name STARTS WITH 'apoc.' OR name STARTS WITH 'gds.'
RETURN collect(name) AS names
