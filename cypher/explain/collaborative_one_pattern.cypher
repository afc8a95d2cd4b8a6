// The collaborative path as one pattern, Neo4j's natural form of collaborative.cypher (same
// rows): its planner seeks both ends by id and joins the two expansions on `other`. ArcadeDB
// enumerates the user's whole two-hop neighbourhood for it, so there collaborative.cypher
// collects the recommended item's users first. bench/collaborative_forms.py measures both.
// params: user, item, limit, max_ids
MATCH (u:User {id: $user})-[r:INTERACTED]->(anchor:Item)<-[:INTERACTED]-(other:User)
      -[:INTERACTED]->(rec:Item {id: $item})
WHERE other <> u AND anchor <> rec
WITH anchor, r, collect(DISTINCT other.id) AS ids
RETURN anchor.id AS anchor_id, anchor.title AS anchor_title,
       r.kind AS kind, r.weight AS weight, r.ts AS ts,
       size(ids) AS people, ids[0..$max_ids] AS other_ids
ORDER BY people DESC, anchor_id
LIMIT $limit
