-- Authentication no longer writes on every request: each API process looks credentials up with
-- agentry.verify_key / agentry.verify_member (reads only, then cached), spends the rate limit from leased
-- batches and writes usage once a second (20261130000007_request_path.sql). The functions that did all of it
-- in one write per request have no caller left.
drop function if exists agentry.authenticate_key(bytea, text);
drop function if exists agentry.authenticate_member(uuid, uuid, text);
drop function if exists agentry.take_rate_limit(uuid, integer);
