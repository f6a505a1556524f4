-- Exactly-right write-back.
--
-- A call whose outcome Shipback could not learn (a timeout, a dropped connection, a
-- 5xx after the body went out, a worker killed mid-call): the next attempt reads the
-- marketplace back before it sends anything again.
ALTER TABLE shipments ADD COLUMN outcome_unknown INTEGER NOT NULL DEFAULT 0;

-- A result that arrived after its claim was superseded (a correction, or a lease taken
-- over) is kept in the history as superseded, numbered 0: the round's numbers stay
-- those of the attempts that counted.
ALTER TABLE writeback_attempts ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;

-- An account's API paused because the marketplace is in trouble (down, throttling,
-- refusing the credentials): its shipments wait (shipments.waiting_on = key) without
-- spending attempts; one probe is let through every interval, and the first success
-- sends them all on.
CREATE TABLE api_pauses (
    key           TEXT    PRIMARY KEY,      -- 'api:<account id>:<api>'
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    api           TEXT    NOT NULL,
    since         INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    next_probe_at INTEGER NOT NULL
);
