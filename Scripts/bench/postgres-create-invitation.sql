-- pgbench script: the statements of one CreateInvitation on PostgreSQL, in the round trips guestd
-- makes (BENCHMARKS.md, "Storage on PostgreSQL"): the upper bound of guestd's rate on a machine.
-- Needs a database guestd made, with a tenant:
--   pgbench -n -M extended -c 64 -j 4 -T 5 -D tenant=TENANT_ID -D sponsor=ADMIN_USER_ID -f Scripts/bench/postgres-create-invitation.sql URL
\set n random(1, 1000000000)
\set m random(1, 1000000000)
\startpipeline
BEGIN;
SET LOCAL synchronous_commit TO off;
INSERT INTO rate_windows AS w (key, window_start, count) VALUES ('invite:' || :tenant, 0, 1) ON CONFLICT (key) DO UPDATE SET count = w.count + 1 RETURNING count;
COMMIT;
\endpipeline
\startpipeline
BEGIN;
SELECT t.data, s.data FROM tenants t LEFT JOIN LATERAL (SELECT data FROM tenant_settings WHERE tenant_id = t.id FOR SHARE) s ON true WHERE t.id = :tenant FOR SHARE OF t;
\endpipeline
SELECT data FROM users WHERE id = :sponsor AND tenant_id = :tenant FOR SHARE;
SELECT data FROM users WHERE tenant_id = :tenant AND mail = 'pgb-' || :n || '@partner.example' AND deleted_at = 0 FOR UPDATE;
SELECT data FROM users WHERE tenant_id = :tenant AND mail = 'pgb-' || :n || '@partner.example' AND deleted_at > 0 ORDER BY id LIMIT 1;
\startpipeline
INSERT INTO users (id, tenant_id, mail, domain, user_type, roles, external_state, home_tenant_id, home_user_id, last_sign_in_at, access_expires_at, deleted_at, data, account_enabled, removal_scheduled_at, activity_at) VALUES ('usr_pgb' || :n || '_' || :client_id || '_' || :m, :tenant, 'pgb-' || :n || '-' || :client_id || '-' || :m || '@partner.example', 'partner.example', 2, ',', 1, '', '', 0, 0, 0, '\x0a0b757372', 1, 0, 0);
INSERT INTO user_sponsors (sponsor_id, user_id) VALUES (:sponsor, 'usr_pgb' || :n || '_' || :client_id || '_' || :m);
INSERT INTO invitations (id, tenant_id, invited_email, status, guest_user_id, invited_by, ticket_hash, expires_at, data) VALUES ('inv_pgb' || :n || '_' || :client_id || '_' || :m, :tenant, 'pgb@partner.example', 1, 'usr_x', '', NULL, 0, '\x0a0b696e76');
INSERT INTO audit_events (sequence, tenant_id, action, actor_id, target_id, occurred_at, data) VALUES (-(pg_backend_pid()::bigint << 24 | 1), :tenant, 1, 'k', 'inv', 0, '\x0a0b617564');
SET LOCAL synchronous_commit TO off;
WITH mine AS (SELECT sequence AS pending, row_number() OVER (ORDER BY sequence DESC) AS ord, count(*) OVER () AS total FROM audit_events WHERE sequence = ANY(ARRAY[-(pg_backend_pid()::bigint << 24 | 1)])), next AS (UPDATE audit_sequence SET value = value + (SELECT count(*) FROM mine) WHERE id = 1 RETURNING value), numbered AS (UPDATE audit_events a SET sequence = next.value - mine.total + mine.ord FROM next, mine WHERE a.sequence = mine.pending RETURNING a.tenant_id) SELECT pg_notify('guestaccess_audit', t) FROM (SELECT DISTINCT tenant_id AS t FROM numbered) AS tenants;
COMMIT;
INSERT INTO commit_flush (slot, commits) VALUES (pg_backend_pid() % 65536, 1) ON CONFLICT (slot) DO UPDATE SET commits = commit_flush.commits + 1;
\endpipeline
