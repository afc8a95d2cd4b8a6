// The largest number of RELATED relationships at one concept (the KG's biggest hub).
MATCH (c:Concept)-[r:RELATED]-()
WITH c, count(r) AS degree
RETURN max(degree) AS degree
