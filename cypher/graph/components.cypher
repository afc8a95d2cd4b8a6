// Server product and version (Neo4j and Bolt-compatible servers that emulate it).
CALL dbms.components() YIELD name, versions, edition
RETURN name, versions, edition
