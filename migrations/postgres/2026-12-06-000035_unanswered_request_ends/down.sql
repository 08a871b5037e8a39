-- Open again, as stored before: the dossiers whose end is their one supplement request.
UPDATE dossiers AS d SET ended_at = NULL, timing = NULL, span_class = NULL
FROM (SELECT e.dossier_id, min(e.at) AS at
      FROM dossier_events e JOIN dossiers o ON o.id = e.dossier_id
      WHERE o.status = 'supplementRequested' AND e.status = 'supplementRequested'
      GROUP BY e.dossier_id HAVING count(*) = 1) AS r
WHERE r.dossier_id = d.id AND d.ended_at = r.at;
