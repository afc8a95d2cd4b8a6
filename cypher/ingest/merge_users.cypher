// Upsert users by business id. row: {id, properties}
UNWIND $rows AS row
MERGE (u:User {id: row.id})
SET u += row.properties
