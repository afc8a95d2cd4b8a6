// The largest number of RELATED and HAS_CONCEPT relationships at one concept: a hub
// counted with the items that link to it, as well as its KG neighbours.
MATCH (c:Concept)-[r:RELATED|HAS_CONCEPT]-()
WITH c, count(r) AS degree
RETURN max(degree) AS degree
