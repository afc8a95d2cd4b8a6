// Every index with what the reset needs to tell schema indexes from the rest.
SHOW INDEXES YIELD name, type, owningConstraint
RETURN name, type, owningConstraint
