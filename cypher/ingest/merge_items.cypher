// Upsert items by business id. row: {id, title, properties}
UNWIND $rows AS row
MERGE (i:Item {id: row.id})
SET i += row.properties
SET i.title = coalesce(row.title, i.title)
