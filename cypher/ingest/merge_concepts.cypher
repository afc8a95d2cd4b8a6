// Upsert concepts by business id ("<kind>:<normalised name>"). row: {id, kind, name}
UNWIND $rows AS row
MERGE (c:Concept {id: row.id})
SET c.kind = row.kind, c.name = row.name
