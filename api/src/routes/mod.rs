//! Every route of the service, wired in one place. The OpenAPI document is collected from the
//! same registrations, so it lists exactly what is served.

pub mod announcements;
pub mod audit;
pub mod calendar;
pub mod changes;
pub mod clients;
pub mod console;
pub mod dossiers;
pub mod duties;
pub mod gains;
pub mod health;
pub mod losses;
pub mod official;
pub mod overdue;
pub mod periods;
pub mod petitions;
pub mod portal_relays;
pub mod portal_sync;
pub mod procedures;
pub mod published;
pub mod reports;
pub mod scores;
pub mod scoring;
pub mod session;
pub mod subscriptions;
pub mod tasks;
pub mod token;
pub mod units;
pub mod users;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Lists the routes once: registers them (at the root and under `/api/v1`) and collects every
/// schema they name, so that a test can find two Rust types published under one schema name.
macro_rules! routes {
    (root: [$($root:path),* $(,)?], api: [$($api:path),* $(,)?] $(,)?) => {
        /// Registers every route.
        pub fn configure(cfg: &mut ServiceConfig<'_>) {
            $(cfg.service($root);)*
            cfg.service(scope("/api/v1")$(.service($api))*);
        }

        /// Every schema the routes name, with repeats, as the document is collected: a name
        /// given by two Rust types appears twice with two different schemas.
        pub fn named_schemas() -> Vec<(String, RefOr<Schema>)> {
            let mut schemas = Vec::new();
            $(<$root as utoipa::__dev::SchemaReferences>::schemas(&mut schemas);)*
            $(<$api as utoipa::__dev::SchemaReferences>::schemas(&mut schemas);)*
            schemas
        }
    };
}

routes! {
    root: [
        health::healthz,
        health::readyz,
        health::metrics,
        console::page,
        console::script,
        console::style,
    ],
    api: [
        token::issue_token,
        session::sign_in,
        session::current_session,
        session::sign_out,
        units::list_units,
        units::create_unit,
        units::get_unit,
        units::patch_unit,
        clients::list_clients,
        clients::create_client,
        clients::get_client,
        clients::patch_client,
        clients::delete_client,
        clients::rotate_secret,
        users::list_users,
        users::create_user,
        users::get_user,
        users::patch_user,
        audit::list_audit,
        changes::changes,
        subscriptions::list_subscriptions,
        subscriptions::create_subscription,
        subscriptions::get_subscription,
        subscriptions::patch_subscription,
        subscriptions::delete_subscription,
        subscriptions::list_dead_letters,
        subscriptions::get_dead_letter,
        subscriptions::redeliver,
        calendar::due,
        calendar::working_time,
        calendar::get_year,
        calendar::put_year,
        calendar::list_days,
        // Fixed paths before `/procedures/{code}` and `/announcements/{id}`.
        procedures::list_procedures,
        procedures::create_procedure,
        procedures::bulk_procedures,
        procedures::not_localized,
        procedures::get_procedure,
        procedures::put_procedure,
        procedures::list_versions,
        procedures::list_fields,
        procedures::put_field,
        announcements::list_decisions,
        announcements::create_decision,
        announcements::late,
        announcements::pending,
        announcements::publication,
        announcements::get_decision,
        announcements::put_decision,
        announcements::apply_decision,
        announcements::get_rules,
        announcements::put_rules,
        dossiers::list_dossiers,
        dossiers::bulk_dossiers,
        dossiers::put_dossier,
        dossiers::get_dossier,
        dossiers::timeline,
        dossiers::add_event,
        dossiers::recompute_due,
        dossiers::rate_dossier,
        portal_sync::sync_in_portal_dialect,
        portal_relays::put_relay,
        portal_relays::get_relay,
        // `/petitions/bulk` before `/petitions/{code}`.
        petitions::list_petitions,
        petitions::bulk_petitions,
        petitions::put_petition,
        petitions::get_petition,
        petitions::add_petition_event,
        petitions::get_petition_rules,
        petitions::put_petition_rules,
        petitions::petition_figures,
        scoring::list_indicators,
        scoring::list_rule_sets,
        scoring::get_rule_set,
        scoring::put_rule_set,
        scoring::evaluate,
        scores::trend,
        scores::rankings,
        scores::get_score,
        scores::list_misses,
        losses::losses,
        overdue::stock,
        overdue::series,
        gains::get_gains,
        official::put_official,
        official::get_official,
        official::reconciliation,
        published::list_published,
        published::get_published,
        periods::list_periods,
        periods::close_period,
        periods::reopen_period,
        scores::put_figures,
        scores::get_figures,
        reports::ii06a,
        reports::notice,
        // Fixed paths before `/reporting-duties/{code}`.
        duties::list_duties,
        duties::create_duty,
        duties::compliance,
        duties::due_soon,
        duties::get_duty,
        duties::put_duty,
        duties::list_submissions,
        duties::submit,
        duties::mark_quality,
        duties::excuse,
        duties::withdraw_excuse,
        // Fixed paths before `/tasks/{id}`.
        tasks::list_tasks,
        tasks::create_task,
        tasks::import_tasks,
        tasks::explanation_task,
        tasks::due_parts,
        tasks::overdue_parts,
        tasks::task_compliance,
        tasks::get_task,
        tasks::patch_task,
        tasks::put_part,
    ],
}
