// Erase a user in one transaction: the CO_ENGAGED links between two of their items are
// marked stale (their counts included this user; the next derivation deletes and
// recomputes them), then the node goes with its INTERACTED, HAS_ATTRIBUTE and RECOMMENDED
// relationships and its embedding properties. A second run matches nothing. params: id
MATCH (u:User {id: $id})
OPTIONAL MATCH (u)-[:INTERACTED]->(:Item)-[c:CO_ENGAGED]->(:Item)<-[:INTERACTED]-(u)
WITH u, collect(DISTINCT c) AS links
FOREACH (c IN links | SET c.stale = true)
DETACH DELETE u
RETURN size(links) AS stale_links
