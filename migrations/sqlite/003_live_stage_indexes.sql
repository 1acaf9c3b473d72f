-- Reads of a pipeline touch its live stages only, however many archived ones it has gathered;
-- generated ids are checked against every pipeline and stage id of the portal.
CREATE INDEX stages_live_by_pipeline ON stages (portal_id, object_type, pipeline_id) WHERE archived_at IS NULL;
CREATE INDEX stages_by_portal_id ON stages (portal_id, id);
CREATE INDEX pipelines_by_portal_id ON pipelines (portal_id, id);
