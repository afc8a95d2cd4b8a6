// Distinct (user, item) pairs with at least one interaction: compared with a split's size
// before peers run on it, so that a peer never sees interactions the split does not have.
MATCH (u:User)-[:INTERACTED]->(i:Item)
WITH DISTINCT u, i
RETURN count(*) AS n
