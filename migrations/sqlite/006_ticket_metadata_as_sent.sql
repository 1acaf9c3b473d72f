-- Ticket stage metadata is returned as sent: `ticketState`, plus `isClosed` only when a client
-- sent it. Until now `isClosed` was always derived from ticketState (a sent one was dropped), so
-- every stored ticket `isClosed` is a derived one: remove it.
UPDATE stages SET metadata = json_remove(metadata, '$.isClosed')
WHERE object_type = '0-5' AND json_extract(metadata, '$.isClosed') IS NOT NULL;
