//! The diesel schema, one for both backends (the migrations keep them alike).

diesel::table! {
    /// Organisational units.
    units (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Identifier code, unique.
        code -> Text,
        /// Official name.
        name -> Text,
        /// Level name, see `UnitLevel`.
        level -> Text,
        /// The parent unit.
        parent_id -> Nullable<BigInt>,
        /// Materialised path of codes from the root.
        path -> Text,
        /// First day of validity.
        valid_from -> Nullable<Date>,
        /// Last day of validity.
        valid_to -> Nullable<Date>,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// API clients (OAuth2 client credentials).
    clients (id) {
        /// Client id, chosen by the administrator.
        id -> Text,
        /// Human-readable name.
        name -> Text,
        /// Argon2 PHC string of the secret.
        secret_hash -> Text,
        /// Space-separated scopes.
        scopes -> Text,
        /// Space-separated unit codes the client may act for (each with its subtree).
        units -> Text,
        /// Whether the client may act for every unit.
        all_units -> Bool,
        /// A disabled client cannot get tokens.
        disabled -> Bool,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
        /// When the secret was last set (UTC).
        secret_rotated_at -> Timestamp,
    }
}

diesel::table! {
    /// People who sign in to the office console.
    users (username) {
        /// Sign-in name, chosen by the administrator.
        username -> Text,
        /// Full name.
        name -> Text,
        /// Argon2id PHC string of the password.
        password_hash -> Text,
        /// `viewer`, `officer` or `admin`.
        role -> Text,
        /// Space-separated unit codes the person acts for (each with its subtree).
        units -> Text,
        /// Whether the person acts for every unit.
        all_units -> Bool,
        /// A disabled person cannot sign in.
        disabled -> Bool,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
        /// When the password was last set (UTC).
        password_set_at -> Timestamp,
    }
}

diesel::table! {
    /// Who changed what, when and why.
    audit_log (id) {
        /// Sequence number.
        id -> BigInt,
        /// When (UTC).
        at -> Timestamp,
        /// Client that made the change.
        client_id -> Text,
        /// End user named in the token, if any.
        end_user_id -> Nullable<Text>,
        /// End user's name, if any.
        end_user_name -> Nullable<Text>,
        /// What was done (`create`, `update`, `delete`, …).
        action -> Text,
        /// Kind of resource (`unit`, `client`, …).
        resource_type -> Text,
        /// The resource's identifier (its code or id).
        resource_id -> Text,
        /// JSON of the resource before the change.
        before_json -> Nullable<Text>,
        /// JSON of the resource after the change.
        after_json -> Nullable<Text>,
        /// `X-Audit-Reason` of the request.
        reason -> Nullable<Text>,
        /// Request id of the change.
        request_id -> Nullable<Text>,
        /// Tree path of the unit the change concerns; NULL for the whole service.
        unit_path -> Nullable<Text>,
        /// The writing transaction's id on PostgreSQL (0 on SQLite): the change feed's order.
        txid -> BigInt,
    }
}

diesel::table! {
    /// Service-wide settings kept in the database (e.g. the generated JWT key).
    settings (key) {
        /// Setting name.
        key -> Text,
        /// Setting value.
        value -> Text,
    }
}

diesel::table! {
    /// Calendar years edited by a province.
    calendar_years (unit_id, year) {
        /// The province.
        unit_id -> BigInt,
        /// The year.
        year -> Integer,
        /// The year as JSON (`YearCalendar`).
        data -> Text,
        /// Row version for optimistic concurrency.
        version -> BigInt,
        /// Last updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Fields (lĩnh vực).
    fields (code) {
        /// Code.
        code -> Text,
        /// Name.
        name -> Text,
    }
}

diesel::table! {
    /// Procedures; their content is in `procedure_versions`.
    procedures (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Procedure code.
        code -> Text,
        /// The national code it is based on (itself when national).
        base_code -> Text,
        /// Whether it is a province's localized copy.
        localized -> Bool,
        /// Published on the national database.
        published_on -> Nullable<Date>,
        /// Abolished on.
        abolished_on -> Nullable<Date>,
        /// Row version.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Versions of procedures' content.
    procedure_versions (id) {
        /// Surrogate key.
        id -> BigInt,
        /// The procedure.
        procedure_id -> BigInt,
        /// 1, 2, … per procedure.
        seq -> Integer,
        /// First day in force.
        valid_from -> Date,
        /// Last day in force.
        valid_to -> Nullable<Date>,
        /// The decision that made it.
        decision -> Nullable<Text>,
        /// Name.
        name -> Text,
        /// Name folded for search.
        search_name -> Text,
        /// Field code.
        field -> Text,
        /// Online service level.
        online_level -> Nullable<Text>,
        /// Space-separated levels.
        levels -> Text,
        /// Space-separated missing content parts.
        missing -> Text,
        /// The content as JSON.
        content -> Text,
        /// Created at (UTC).
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Units handling a procedure version.
    procedure_version_units (version_id, unit_id) {
        /// The version.
        version_id -> BigInt,
        /// The unit.
        unit_id -> BigInt,
    }
}

diesel::table! {
    /// Announcement decisions.
    announcements (id) {
        /// Surrogate key, the API's id.
        id -> BigInt,
        /// `ministry` or `province`.
        kind -> Text,
        /// Decision number.
        number -> Text,
        /// Title.
        title -> Text,
        /// Ministry name or province code.
        issuer -> Text,
        /// Signed on.
        signed_on -> Date,
        /// Takes effect on.
        effective_on -> Nullable<Date>,
        /// Unit that should submit (ministry) or that submitted (province).
        unit_id -> Nullable<BigInt>,
        /// Internal-process decision number.
        internal_process_number -> Nullable<Text>,
        /// Internal-process decision date.
        internal_process_on -> Nullable<Date>,
        /// Published on the national database.
        published_on -> Nullable<Date>,
        /// Notes.
        notes -> Nullable<Text>,
        /// Announcement deadline (ministry decisions).
        announce_due -> Nullable<Date>,
        /// The rule that gave it.
        announce_rule -> Nullable<Text>,
        /// Publication deadline (province decisions).
        publish_due -> Nullable<Date>,
        /// The rule that gave it.
        publish_rule -> Nullable<Text>,
        /// When the decision was applied to the catalogue.
        applied_at -> Nullable<Timestamp>,
        /// Row version.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Items of announcement decisions.
    announcement_items (id) {
        /// Surrogate key.
        id -> BigInt,
        /// The decision.
        announcement_id -> BigInt,
        /// Order in the decision.
        position -> Integer,
        /// Procedure code.
        procedure_code -> Text,
        /// Action.
        action -> Text,
        /// Procedure name as written in the decision.
        name -> Nullable<Text>,
        /// Code replaced.
        replaces -> Nullable<Text>,
        /// Content JSON.
        content -> Nullable<Text>,
    }
}

diesel::table! {
    /// Provincial decisions implementing ministry decisions.
    announcement_links (province_decision_id, ministry_decision_id) {
        /// The provincial decision.
        province_decision_id -> BigInt,
        /// The ministry decision.
        ministry_decision_id -> BigInt,
    }
}

diesel::table! {
    /// Dossiers pushed by vendor systems.
    dossiers (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Dossier code.
        code -> Text,
        /// Handling unit.
        unit_id -> BigInt,
        /// The unit's tree path when stored.
        unit_path -> Text,
        /// Procedure code.
        procedure_code -> Text,
        /// Procedure version in force at receipt.
        procedure_version -> Nullable<Integer>,
        /// Field code.
        field -> Nullable<Text>,
        /// Channel.
        channel -> Text,
        /// Current status.
        status -> Text,
        /// Received at (local time).
        received_at -> Timestamp,
        /// Due instant used for timing.
        due_at -> Nullable<Timestamp>,
        /// Due instant by the rules.
        rule_due_at -> Nullable<Timestamp>,
        /// Due instant after apologies and supplement time.
        effective_due_at -> Nullable<Timestamp>,
        /// End of handling by the timing rules.
        ended_at -> Nullable<Timestamp>,
        /// Final timing of an ended dossier.
        timing -> Nullable<Text>,
        /// Quality flags, as bits (`Flag::bit`).
        flags -> Integer,
        /// Last synced to the national portal.
        synced_at -> Nullable<Timestamp>,
        /// Status last synced.
        synced_status -> Nullable<Text>,
        /// The rest of the dossier as JSON.
        data -> Text,
        /// Hash of the last write's input.
        input_hash -> Text,
        /// Row version.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Updated at (UTC).
        updated_at -> Timestamp,
        /// What the 766 indicators count of it, as bits (`tthc_core::dossier::facts`).
        facts -> Integer,
        /// The satisfaction rating: `satisfied`, `neutral` or `dissatisfied`.
        rating -> Nullable<Text>,
        /// When it was rated (local time).
        rated_at -> Nullable<Timestamp>,
        /// Where it was rated (`vendor`, `portal`, `kiosk`, `phone`, `other`).
        rating_channel -> Nullable<Text>,
        /// How long handling took, as a class of powers of two days (`tthc_core::dossier::span`);
        /// null while open.
        span_class -> Nullable<Integer>,
        /// From when it counts late while open (`tthc_core::dossier::timing`); null while within
        /// its time or paused, and once it ended in time.
        late_from -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Petitions (phản ánh, kiến nghị).
    petitions (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Petition code.
        code -> Text,
        /// The unit concerned.
        unit_id -> BigInt,
        /// The unit's tree path when stored.
        unit_path -> Text,
        /// `regulation` or `officerConduct`.
        subject -> Text,
        /// The procedure concerned.
        procedure_code -> Nullable<Text>,
        /// The dossier concerned.
        dossier_code -> Nullable<Text>,
        /// How it reached the unit.
        channel -> Text,
        /// Current status.
        status -> Text,
        /// Received at (local time).
        received_at -> Timestamp,
        /// Handled at (local time).
        handled_at -> Nullable<Timestamp>,
        /// Ended at (local time).
        ended_at -> Nullable<Timestamp>,
        /// Final timing once ended.
        timing -> Nullable<Text>,
        /// The earliest stage deadline missed or pending.
        late_from -> Nullable<Timestamp>,
        /// The petitioner's reaction.
        reaction -> Nullable<Text>,
        /// When the petitioner reacted.
        reaction_at -> Nullable<Timestamp>,
        /// The code of a further petition on the same matter.
        further_petition -> Nullable<Text>,
        /// The rest as JSON.
        data -> Text,
        /// Hash of the last write's input.
        input_hash -> Text,
        /// Row version.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Stage events of petitions.
    petition_events (petition_id, event_id) {
        /// The petition.
        petition_id -> BigInt,
        /// The vendor's event id.
        event_id -> Text,
        /// The new status.
        status -> Text,
        /// When (local time).
        at -> Timestamp,
        /// Who.
        actor -> Nullable<Text>,
        /// Note.
        note -> Nullable<Text>,
        /// When tthc received it (UTC).
        received_at -> Timestamp,
    }
}

diesel::table! {
    /// Events a vendor sent that the transition rules refused, with the reason.
    dossier_refused_events (id) {
        /// Row id.
        id -> BigInt,
        /// The dossier.
        dossier_id -> BigInt,
        /// The vendor's event id.
        event_id -> Text,
        /// The status it carried.
        status -> Text,
        /// Its instant (local time).
        at -> Timestamp,
        /// Why it was refused.
        reason -> Text,
        /// When tthc refused it (local time).
        refused_at -> Timestamp,
    }
}

diesel::table! {
    /// Status events of dossiers.
    dossier_events (dossier_id, event_id) {
        /// The dossier.
        dossier_id -> BigInt,
        /// The vendor's event id.
        event_id -> Text,
        /// Status.
        status -> Text,
        /// When (local time).
        at -> Timestamp,
        /// New due instant (apology).
        new_due -> Nullable<Timestamp>,
        /// Who.
        actor -> Nullable<Text>,
        /// Note.
        note -> Nullable<Text>,
        /// When tthc wrote this row: when the event was first received, unless a later write
        /// changed or left out one of the dossier's stored events, or keeping them would read
        /// them in another order (or by id), and they were all written again.
        received_at -> Timestamp,
        /// What the vendor attached, as JSON text.
        payload -> Nullable<Text>,
        /// Its place in the write that stored it: events of one instant are read in that order
        /// (0 for those stored before it was kept, read by id). A later write that keeps the row
        /// keeps its number, and numbers the events it adds by their places in it.
        seq -> Integer,
    }
}

diesel::table! {
    /// Answers to POST requests sent with an `Idempotency-Key`, for replay.
    idempotency_keys (client_id, idem_key) {
        /// The client that sent the key.
        client_id -> Text,
        /// The key.
        idem_key -> Text,
        /// SHA-256 of the request (method, path, query, body).
        request_hash -> Text,
        /// The answer's status; NULL while the first request is being answered.
        status -> Nullable<Integer>,
        /// The answer's media type.
        content_type -> Nullable<Text>,
        /// The answer's body.
        body -> Nullable<Binary>,
        /// When the key was first seen (UTC).
        created_at -> Timestamp,
        /// Whether a write transaction of the request holding the key committed.
        took_effect -> Bool,
    }
}

diesel::table! {
    /// Figures of the 766 index entered by hand, per unit and period.
    unit_figures (unit_id, period, indicator) {
        /// The unit.
        unit_id -> BigInt,
        /// The period (`2026-08`, `2026-Q3`, `2026`).
        period -> Text,
        /// The indicator's code.
        indicator -> Text,
        /// The numerator; NULL when tthc's own count is used.
        numerator -> Nullable<BigInt>,
        /// The denominator.
        denominator -> BigInt,
        /// Where the figure comes from, in words.
        note -> Nullable<Text>,
        /// When it was entered (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Closed months.
    closed_periods (period) {
        /// The month.
        period -> Text,
        /// When it was closed.
        closed_at -> Timestamp,
        /// Who closed it.
        closed_by -> Text,
    }
}

diesel::table! {
    /// Every unit's frozen figures for a closed month.
    score_snapshots (period, unit_id) {
        /// The month.
        period -> Text,
        /// The unit.
        unit_id -> BigInt,
        /// The rule set.
        rule_set -> Text,
        /// The figures as JSON.
        figures -> Text,
    }
}

diesel::table! {
    /// The scores the national portal published.
    official_scores (unit_id, period) {
        /// The unit.
        unit_id -> BigInt,
        /// The period.
        period -> Text,
        /// The published scores as JSON.
        data -> Text,
        /// Last written.
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Reporting duties.
    reporting_duties (id) {
        /// Surrogate key.
        id -> BigInt,
        /// Code.
        code -> Text,
        /// Name.
        name -> Text,
        /// monthly, quarterly or yearly.
        frequency -> Text,
        /// Due before this day of the month.
        due_before_day -> Integer,
        /// Months after the period's last month.
        due_months_after -> Integer,
        /// Who receives the reports.
        recipient -> Text,
        /// Unit codes, JSON.
        reporters -> Text,
        /// First period owed.
        first_period -> Text,
        /// Deductions, JSON.
        deductions -> Text,
        /// A one-off request's due day (frequency `once`).
        due_on -> Nullable<Date>,
        /// Version.
        version -> BigInt,
        /// Created (UTC).
        created_at -> Timestamp,
        /// Updated (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Reports sent for a duty.
    report_submissions (id) {
        /// Surrogate key.
        id -> BigInt,
        /// The duty.
        duty_id -> BigInt,
        /// The unit that sent it.
        unit_id -> BigInt,
        /// The period.
        period -> Text,
        /// The document's number.
        document_number -> Text,
        /// When it was sent (local).
        submitted_at -> Timestamp,
        /// File metadata, JSON.
        file -> Nullable<Text>,
        /// Why the office found it poor.
        poor_quality_reason -> Nullable<Text>,
        /// When it was marked (UTC).
        marked_at -> Nullable<Timestamp>,
        /// Who marked it.
        marked_by -> Nullable<Text>,
        /// When it was recorded (UTC).
        recorded_at -> Timestamp,
        /// Who recorded it.
        recorded_by -> Text,
        /// Why the office excused its delay.
        excuse_reason -> Nullable<Text>,
        /// When it was excused (UTC).
        excused_at -> Nullable<Timestamp>,
        /// Who excused it.
        excused_by -> Nullable<Text>,
    }
}

diesel::table! {
    /// Tasks assigned by letter, with a deadline.
    tasks (id) {
        /// Surrogate key.
        id -> BigInt,
        /// The caller's unique key, if given.
        task_key -> Nullable<Text>,
        /// `task` or `explanation`.
        kind -> Text,
        /// The letter's number.
        source_number -> Text,
        /// The letter's date.
        source_date -> Date,
        /// Who signed it.
        source_signer -> Text,
        /// Its title.
        source_title -> Nullable<Text>,
        /// What is to be done.
        body -> Text,
        /// Done on or after this day is late.
        due_before -> Date,
        /// The measurable target, JSON.
        target -> Nullable<Text>,
        /// Version.
        version -> BigInt,
        /// Created (UTC).
        created_at -> Timestamp,
        /// Who created it.
        created_by -> Text,
        /// Updated (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// A unit's part of a task.
    task_parts (id) {
        /// Surrogate key.
        id -> BigInt,
        /// The task.
        task_id -> BigInt,
        /// The unit.
        unit_id -> BigInt,
        /// `open`, `done` or `cancelled`.
        state -> Text,
        /// What the part is about beyond the task.
        note -> Nullable<Text>,
        /// The evidence's document number.
        document_number -> Nullable<Text>,
        /// The evidence's date: the day the part was done.
        done_on -> Nullable<Date>,
        /// The evidence's file and reported figure, JSON.
        evidence -> Nullable<Text>,
        /// Why it was cancelled.
        cancel_reason -> Nullable<Text>,
        /// Version.
        version -> BigInt,
        /// Updated (UTC).
        updated_at -> Timestamp,
        /// Who updated it.
        updated_by -> Text,
    }
}

diesel::table! {
    /// Rule sets of the 766 index added at run time (the shipped ones are not stored).
    rule_sets (code) {
        /// The rule set's code.
        code -> Text,
        /// The first day it applies to.
        applies_from -> Date,
        /// The rule set as JSON.
        body -> Text,
        /// Row version, for If-Match.
        version -> BigInt,
        /// Last changed at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Webhook subscriptions: a URL that receives the change feed, from a cursor of its own.
    subscriptions (id) {
        /// Id (a UUID).
        id -> Text,
        /// The client that made it: its grant limits what is delivered.
        owner_client -> Text,
        /// Where changes are POSTed.
        url -> Text,
        /// Space-separated kinds of record; empty for every kind.
        resource_types -> Text,
        /// Only changes of this unit's subtree.
        unit_code -> Nullable<Text>,
        /// The signing secret (`whsec_…`).
        secret -> Text,
        /// Whether it is delivered.
        active -> Bool,
        /// Feed position delivered up to: writing transaction.
        cursor_txid -> BigInt,
        /// Feed position delivered up to: sequence.
        cursor_id -> BigInt,
        /// End of the batch being tried: writing transaction.
        batch_end_txid -> Nullable<BigInt>,
        /// End of the batch being tried: sequence.
        batch_end_id -> Nullable<BigInt>,
        /// Failed attempts of the batch being tried.
        failures -> Integer,
        /// Not tried again before (UTC).
        next_attempt_at -> Timestamp,
        /// Last attempt (UTC).
        last_attempt_at -> Nullable<Timestamp>,
        /// Last accepted delivery (UTC).
        last_success_at -> Nullable<Timestamp>,
        /// Why the last attempt failed.
        last_error -> Nullable<Text>,
        /// Changes delivered so far.
        delivered -> BigInt,
        /// The instance delivering it now.
        lease_owner -> Nullable<Text>,
        /// Until when that instance holds it (UTC).
        lease_until -> Nullable<Timestamp>,
        /// Row version, for If-Match.
        version -> BigInt,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Updated at (UTC).
        updated_at -> Timestamp,
        /// `webhook`, or `portal` (the relay to the national portal).
        kind -> Text,
    }
}

diesel::table! {
    /// Batches a subscription gave up on, kept for redelivery.
    webhook_dead_letters (id) {
        /// Id.
        id -> BigInt,
        /// The subscription.
        subscription_id -> Text,
        /// The batch starts after this position: transaction.
        from_txid -> BigInt,
        /// The batch starts after this position: sequence.
        from_id -> BigInt,
        /// The batch ends at this position: transaction.
        to_txid -> BigInt,
        /// The batch ends at this position: sequence.
        to_id -> BigInt,
        /// How many changes it holds.
        changes -> Integer,
        /// Attempts made.
        attempts -> Integer,
        /// Why the last attempt failed.
        last_error -> Text,
        /// `dead`, `queued` (to be delivered again) or `delivered`.
        state -> Text,
        /// Created at (UTC).
        created_at -> Timestamp,
        /// Updated at (UTC).
        updated_at -> Timestamp,
    }
}

diesel::joinable!(procedure_versions -> procedures (procedure_id));
diesel::joinable!(dossier_refused_events -> dossiers (dossier_id));
diesel::joinable!(petition_events -> petitions (petition_id));
diesel::joinable!(petitions -> units (unit_id));
diesel::joinable!(procedure_version_units -> units (unit_id));
diesel::joinable!(procedure_version_units -> procedure_versions (version_id));
diesel::joinable!(announcement_items -> announcements (announcement_id));
diesel::joinable!(report_submissions -> reporting_duties (duty_id));
diesel::joinable!(report_submissions -> units (unit_id));
diesel::joinable!(task_parts -> tasks (task_id));
diesel::joinable!(task_parts -> units (unit_id));
diesel::joinable!(webhook_dead_letters -> subscriptions (subscription_id));

diesel::table! {
    /// Tokens taken back before they expire (`db::revocations`).
    token_revocations (id) {
        /// Id, never used twice: a token carries its subject's latest at issue.
        id -> BigInt,
        /// The token's subject: a client id, or `user:<username>`.
        subject -> Text,
        /// The one token refused (a sign-out); NULL refuses every token of the subject issued
        /// before the row.
        jti -> Nullable<Text>,
        /// When (UTC).
        revoked_at -> Timestamp,
        /// After this instant no token the row refuses is unexpired (UTC).
        keep_until -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    units,
    clients,
    users,
    audit_log,
    settings,
    calendar_years,
    fields,
    procedures,
    procedure_versions,
    procedure_version_units,
    announcements,
    announcement_items,
    announcement_links,
    dossiers,
    dossier_events,
    dossier_refused_events,
    idempotency_keys,
    unit_figures,
    petitions,
    petition_events,
    closed_periods,
    score_snapshots,
    official_scores,
    reporting_duties,
    report_submissions,
    tasks,
    task_parts,
    rule_sets,
    subscriptions,
    webhook_dead_letters,
    token_revocations,
);

// The procedures in force of a subtree are grouped by version and procedure (their keys), the
// rest of both rows read with them (`catalogue_figures::procedures_in_force`).
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    procedure_versions::id,
    procedure_versions::online_level,
    procedure_versions::content,
    procedure_versions::levels,
    procedures::id,
    procedures::code,
    procedures::base_code,
);
