-- A portal's audit in the order it was written: an export reads it a page at a time (keyset on
-- seq), which without this index re-sorted every remaining entry of the portal for each page.

CREATE INDEX audit_by_portal ON audit (portal_id, seq);
