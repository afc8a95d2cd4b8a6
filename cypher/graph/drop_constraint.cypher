// params: name (a constraint name the server listed)
DROP CONSTRAINT $name IF EXISTS
