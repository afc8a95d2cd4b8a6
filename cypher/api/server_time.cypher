// The graph server's clock, in milliseconds (the change feed's time base).
RETURN timestamp() AS now
