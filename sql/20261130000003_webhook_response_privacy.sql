-- What a tenant may read of a receiver's answer. A webhook URL is the tenant's to choose, so whatever
-- answers there (an internal service, should the SSRF guard ever be got round) would otherwise be readable
-- through the delivery log. The log therefore shows an answer's body only once the endpoint has proved to
-- be a webhook receiver, and shows errors only as a generic text by category. The raw error and body stay
-- in agentry.webhook_attempts for operators (the CLI and the service role).

-- Verified: the endpoint has answered a delivery with a 2xx, at the URL it has now. Changing the URL
-- starts over.
alter table agentry.webhook_endpoints
  add column if not exists verified_at timestamptz,
  add column if not exists url_set_at timestamptz;

-- How an attempt that got no answer failed, as the transport said: 'blocked' (the address may not be
-- reached), 'timeout', 'network' (no connection, no TLS, not HTTP), or 'request' (anything else). Null when
-- the receiver answered (the status code tells) or when the dispatcher did not say (the error text tells).
-- No check constraint: an unknown kind must never stop an attempt being recorded; it shows as generic.
alter table agentry.webhook_attempts add column if not exists error_kind text;

create or replace function agentry.forget_webhook_verification() returns trigger
  language plpgsql set search_path = ''
  as $$
begin
  new.verified_at := null;
  new.url_set_at := now();
  return new;
end $$;
drop trigger if exists webhook_endpoints_url_changed on agentry.webhook_endpoints;
create trigger webhook_endpoints_url_changed before update of url on agentry.webhook_endpoints
  for each row when (new.url is distinct from old.url) execute function agentry.forget_webhook_verification();

-- An attempt started before the URL last changed went to the old URL, and proves nothing of the new one.
create or replace function agentry.verify_webhook_endpoint() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  update agentry.webhook_endpoints set verified_at = new.started_at
  where id = new.endpoint_id and verified_at is null and (url_set_at is null or url_set_at <= new.started_at);
  return null;
end $$;
drop trigger if exists webhook_attempts_verify on agentry.webhook_attempts;
create trigger webhook_attempts_verify after insert on agentry.webhook_attempts
  for each row when (new.status_code between 200 and 299) execute function agentry.verify_webhook_endpoint();

-- The error a tenant is shown for an attempt (or a delivery's last one): never the raw text, which may
-- carry what the receiver said or what the network looks like from inside, but its category. The kind
-- the dispatcher recorded decides; without one, the status code and the start of the error text do. What
-- the platform itself writes about a delivery (a backlog over the plan's cap, an attempt abandoned by a
-- stopped dispatcher, an answer that could not be stored) carries nothing of a receiver's and is shown as
-- written.
create or replace function agentry.webhook_error_shown(status_code integer, error_kind text, error text) returns text
  language sql immutable set search_path = ''
  as $$
    select case
      when status_code between 300 and 399 then format('Redirect (%s) not followed', status_code)
      when status_code is not null and status_code not between 200 and 299 then format('Receiver answered %s', status_code)
      when error is null and error_kind is null then null
      when error_kind is null and (error like 'Not queued: %'
          or error = 'No outcome was recorded for the last attempt (the dispatcher stopped); no attempts are left'
          or error = 'The receiver''s answer could not be stored') then error
      else case coalesce(error_kind, case
          when error like 'No answer within %' then 'timeout'
          when error like 'Could not %' then 'network'
          when error like '%deliveries may not reach%' or error like 'Only http and https URLs%' then 'blocked'
        end)
        when 'timeout' then coalesce(substring(error from '^No answer within \d+ ms$'), 'No answer in time')
        when 'network' then 'Could not connect to the receiver'
        when 'blocked' then 'Blocked: the address is private'
        else 'The request failed'
      end
    end
  $$;
