// bench/engines.py: write one 64-d vector per Item with a plain SET (a list of floats).
UNWIND $rows AS row
MATCH (n:Item {id: row.id})
SET n.bench_vector_set = row.vector
