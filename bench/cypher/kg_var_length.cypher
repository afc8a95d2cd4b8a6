// The knowledge-graph explanation query that graphrec.explain.kg_search replaced, kept as the
// peer of bench/explain_kg.py: RELATED*1..4 expanded undirected from every concept of every
// item the user has, filtered by length only afterwards. params: user, item, max_hops, limit
MATCH (u:User {id: $user})
MATCH (rec:Item {id: $item})
MATCH (u)-[r:INTERACTED]->(anchor:Item)-[h:HAS_CONCEPT]->(c1:Concept)
MATCH p = (c1)-[:RELATED*1..4]-(c2:Concept)<-[h2:HAS_CONCEPT]-(rec)
WHERE anchor <> rec AND length(p) <= $max_hops + 1
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       h.relation AS relation, h2.relation AS relation2,
       [n IN nodes(p) WHERE n:Concept | {id: n.id, name: n.name, kind: n.kind}] AS concepts,
       [x IN relationships(p) WHERE type(x) = 'RELATED' | x.relation] AS hops
LIMIT $limit
