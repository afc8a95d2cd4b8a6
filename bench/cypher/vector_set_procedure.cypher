// bench/engines.py: write one 64-d vector per Item with Neo4j's db.create.setNodeVectorProperty.
UNWIND $rows AS row
MATCH (n:Item {id: row.id})
CALL db.create.setNodeVectorProperty(n, 'bench_vector_procedure', row.vector)
