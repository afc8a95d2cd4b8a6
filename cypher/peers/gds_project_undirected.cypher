// GDS in-memory graph of the training interactions, undirected (users and items), for
// FastRP. Edges marked graphrec_holdout are left out. params: name
MATCH (u:User)-[r:INTERACTED]->(i:Item)
WHERE r.graphrec_holdout IS NULL
WITH DISTINCT u, i
WITH gds.graph.project($name, u, i, {sourceNodeLabels: 'User', targetNodeLabels: 'Item', relationshipType: 'INTERACTED'}, {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.graphName AS name, g.nodeCount AS nodes, g.relationshipCount AS relationships, g.projectMillis AS millis
