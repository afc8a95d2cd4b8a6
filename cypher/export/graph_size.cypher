// What an unfiltered export will hold, counted before it runs (graphrec.data.GraphSize):
// users with an interaction, items, concepts, and the knowledge graph's relationships.
// No params.
RETURN
  COUNT { MATCH (u:User) WHERE EXISTS { (u)-[:INTERACTED]->(:Item) } } AS users,
  COUNT { MATCH (i:Item) } AS items,
  COUNT { MATCH (c:Concept) } AS concepts,
  COUNT { MATCH ()-[:HAS_CONCEPT|SUBCONCEPT_OF|RELATED|CO_ENGAGED]->() } AS kg_edges
