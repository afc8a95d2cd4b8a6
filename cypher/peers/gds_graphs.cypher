// Names of the GDS in-memory graphs graphrec's peers projected (none once a run ended).
CALL gds.graph.list() YIELD graphName
WHERE graphName STARTS WITH 'graphrec-peer-'
RETURN collect(graphName) AS names
