-- Ticket stage metadata is returned as sent: `ticketState`, plus `isClosed` only when a client
-- sent it. Until now `isClosed` was always derived from ticketState (a sent one was dropped), so
-- every stored ticket `isClosed` is a derived one: remove it.
UPDATE stages SET metadata = ((metadata::jsonb) - 'isClosed')::text
WHERE object_type = '0-5' AND (metadata::jsonb) ? 'isClosed';
