// GDS in-memory graph of the training interactions as item -> user relationships (items are
// the sources, so Node Similarity compares items by the users they share). Edges marked
// graphrec_holdout are left out. params: name
MATCH (u:User)-[r:INTERACTED]->(i:Item)
WHERE r.graphrec_holdout IS NULL
WITH DISTINCT u, i
WITH gds.graph.project($name, i, u, {sourceNodeLabels: 'Item', targetNodeLabels: 'User', relationshipType: 'INTERACTED'}) AS g
RETURN g.graphName AS name, g.nodeCount AS nodes, g.relationshipCount AS relationships, g.projectMillis AS millis
