// Neo4j 5.13+ only (the capability probe decides). CREATE VECTOR INDEX takes neither the index
// nor the property name as a parameter: graphrec.serving fills __INDEX__, __PROPERTY__ and
// __DIMENSIONS__ with names checked by graphrec.schema.check_property_name and an integer,
// never with input. Quantisation is off: on by default since 5.23, it moved 16-d cosines by up
// to 0.15 in our test and reordered neighbours; servers before 5.23 reject the key and get
// create_item_vector_index_quantised.cypher instead.
CREATE VECTOR INDEX __INDEX__ IF NOT EXISTS
FOR (i:Item) ON (i.__PROPERTY__)
OPTIONS {indexConfig: {`vector.dimensions`: __DIMENSIONS__, `vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}}
