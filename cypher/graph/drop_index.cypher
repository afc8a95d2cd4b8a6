// params: name (an index name the server listed)
DROP INDEX $name IF EXISTS
