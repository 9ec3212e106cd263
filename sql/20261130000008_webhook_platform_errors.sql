-- What the platform itself writes about a delivery (a backlog over the plan's cap, an attempt abandoned by a
-- stopped dispatcher, an answer that could not be stored) carries nothing of a receiver's, so tenants see it
-- as written; everything a receiver or the network produced is still shown by category only.
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
