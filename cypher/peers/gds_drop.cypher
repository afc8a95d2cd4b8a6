// Drop a GDS in-memory graph if it exists (no error when it does not). params: name
CALL gds.graph.drop($name, false) YIELD graphName
RETURN graphName AS name
