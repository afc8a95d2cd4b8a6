// explain/kg_neighbours with the hub test read from each concept's degree first, the form for
// engines that answer COUNT { (c)-[:RELATED]-() } from the node's degree without expanding it
// (Neo4j 5; Capabilities.degree_count). The same concepts and neighbours as kg_neighbours
// (which $fanout of a longer list are kept follows the engine's traversal order in both), but
// a hub is never expanded, so its thousands of neighbours are neither read nor collected.
// RELATED joins concepts only (graphrec.schema).
// params: ids (frontier concept ids), max_degree, fanout
UNWIND $ids AS id
MATCH (c:Concept {id: id})
WHERE COUNT { (c)-[:RELATED]-() } <= $max_degree
MATCH (c)-[r:RELATED]-(n:Concept)
WITH c, collect({id: n.id, name: n.name, kind: n.kind, relation: r.relation}) AS neighbours
RETURN c.id AS id, neighbours[..$fanout] AS neighbours
