// One breadth-first step of the bounded knowledge-graph search: the RELATED neighbours of each
// frontier concept. A concept with more than $max_degree neighbours (a hub: a country, a
// language, a genre with thousands of films) is not expanded through, and each concept gives
// at most $fanout neighbours, so a step returns at most |frontier| x $fanout neighbours. Telling
// a hub needs its neighbours counted: each frontier concept's RELATED edges are read once.
// params: ids (frontier concept ids), max_degree, fanout
UNWIND $ids AS id
MATCH (c:Concept {id: id})-[r:RELATED]-(n:Concept)
WITH c, collect({id: n.id, name: n.name, kind: n.kind, relation: r.relation}) AS neighbours
WHERE size(neighbours) <= $max_degree
RETURN c.id AS id, neighbours[..$fanout] AS neighbours
