-- One supplement request, not answered, is the dossier's end (PORTAL_RULES 2.1, DOMAIN.md): the
-- dossiers stored before, open and paused at their one request, end there, judged as
-- tthc_core::dossier::timing judges them. Late before the request (late_from set): late. Else
-- early when the request came before the due day and no apology moved the due instant, on time
-- otherwise (against the stored due instant). The span class (tthc_core::dossier::span) follows
-- the end: the least k up to 12 with a span of at most 2^k days, else 13.
UPDATE dossiers AS d SET
    ended_at = r.at,
    timing = CASE
        WHEN d.late_from IS NOT NULL THEN 'finishedLate'
        WHEN coalesce(d.effective_due_at, d.rule_due_at) IS NOT NULL
             AND r.at::date < coalesce(d.effective_due_at, d.rule_due_at)::date
             AND NOT EXISTS (SELECT 1 FROM dossier_events e
                             WHERE e.dossier_id = d.id AND e.new_due IS NOT NULL)
            THEN 'finishedEarly'
        ELSE 'finishedOnTime'
    END,
    span_class = (
        SELECT coalesce(min(c.k), 13) FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)) AS c(k)
        WHERE EXTRACT(EPOCH FROM (r.at - d.received_at)) <= 86400 * (1 << c.k)
    )
FROM (SELECT e.dossier_id, min(e.at) AS at
      FROM dossier_events e JOIN dossiers o ON o.id = e.dossier_id
      WHERE o.status = 'supplementRequested' AND o.ended_at IS NULL
        AND e.status = 'supplementRequested'
      GROUP BY e.dossier_id HAVING count(*) = 1) AS r
WHERE r.dossier_id = d.id;
