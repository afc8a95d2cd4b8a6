// The vector index for servers before Neo4j 5.23, which know no quantisation setting (see
// create_item_vector_index.cypher; same placeholders, filled the same way).
CREATE VECTOR INDEX __INDEX__ IF NOT EXISTS
FOR (i:Item) ON (i.__PROPERTY__)
OPTIONS {indexConfig: {`vector.dimensions`: __DIMENSIONS__, `vector.similarity_function`: 'cosine'}}
