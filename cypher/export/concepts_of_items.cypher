// HAS_CONCEPT edges of the given items. params: ids, relations (list or null), kinds (list or null)
UNWIND $ids AS id
MATCH (i:Item {id: id})-[r:HAS_CONCEPT]->(c:Concept)
WHERE ($relations IS NULL OR r.relation IN $relations)
  AND ($kinds IS NULL OR c.kind IN $kinds)
RETURN i.id AS item_id,
       collect(c.id) AS concepts,
       collect(r.relation) AS relations,
       collect(coalesce(r.weight, 1.0)) AS weights
