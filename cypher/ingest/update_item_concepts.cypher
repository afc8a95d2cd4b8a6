// Refresh the weight of HAS_CONCEPT edges that already exist. Bound by id first, expanded from the item.
UNWIND $rows AS row
MATCH (i:Item {id: row.item_id})
MATCH (c:Concept {id: row.concept_id})
MATCH (i)-[r:HAS_CONCEPT {relation: row.relation}]->(c)
SET r.weight = row.weight
