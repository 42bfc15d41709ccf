-- Results of one monitor and region in time order: counted maintenance stretches
-- (`sql::COUNTED_VOTERS`, `sql::COUNTED_RESULTS`) ask whether a region reported in a stretch
-- and for its last result before a time, one index probe each, so reading any part of a long
-- stretch costs what that part holds rather than a scan of the whole stretch.
-- The rowid `id` ends every index entry, so `ORDER BY at DESC, id DESC` reads it in order.
CREATE INDEX results_monitor_region_at ON results (monitor, region, at);
