-- Rate-limit counts shared by every process on the database: one row per access token, holding
-- the times of the requests admitted in the rolling window and the day's count. UNLOGGED: no
-- write-ahead log per request; after a crash the counts start over, as a restarted process's did.
CREATE UNLOGGED TABLE rate_limits (
  key text PRIMARY KEY,
  hits bigint[] NOT NULL,
  day integer NOT NULL,
  daily integer NOT NULL
);

-- One call per request: counts it if the limits allow, under the token's row lock, so requests
-- arriving through different processes are admitted exactly as one process would admit them.
CREATE FUNCTION rate_limit_take(
  p_key text, p_now bigint, p_day integer, p_window_ms bigint, p_per_window integer, p_daily integer,
  OUT exceeded text, OUT remaining integer, OUT daily_remaining integer)
LANGUAGE plpgsql AS $$
DECLARE
  r rate_limits%ROWTYPE;
  recent bigint[];
  used integer;
BEGIN
  INSERT INTO rate_limits (key, hits, day, daily) VALUES (p_key, '{}', p_day, 0) ON CONFLICT (key) DO NOTHING;
  SELECT * INTO r FROM rate_limits WHERE key = p_key FOR UPDATE;
  recent := ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > p_now - p_window_ms);
  used := CASE WHEN r.day = p_day THEN r.daily ELSE 0 END;
  IF used >= p_daily THEN
    exceeded := 'DAILY';
  ELSIF cardinality(recent) >= p_per_window THEN
    exceeded := 'TEN_SECONDLY_ROLLING';
  ELSE
    recent := recent || p_now;
    used := used + 1;
  END IF;
  UPDATE rate_limits SET hits = recent, day = p_day, daily = used WHERE key = p_key;
  remaining := p_per_window - cardinality(recent);
  daily_remaining := p_daily - used;
END
$$;
