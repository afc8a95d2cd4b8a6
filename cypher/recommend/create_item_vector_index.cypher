// Neo4j 5.13+ only (the capability probe decides). CREATE VECTOR INDEX takes neither the index
// nor the property name as a parameter: graphrec.serving fills __INDEX__, __PROPERTY__ and
// __DIMENSIONS__ with names checked by graphrec.schema.check_property_name and an integer,
// never with input.
CREATE VECTOR INDEX __INDEX__ IF NOT EXISTS
FOR (i:Item) ON (i.__PROPERTY__)
OPTIONS {indexConfig: {`vector.dimensions`: __DIMENSIONS__, `vector.similarity_function`: 'cosine'}}
