//! Every route of the service, wired in one place. The OpenAPI document is collected from the
//! same registrations, so it lists exactly what is served.

pub mod announcements;
pub mod audit;
pub mod calendar;
pub mod clients;
pub mod dossiers;
pub mod duties;
pub mod gains;
pub mod health;
pub mod official;
pub mod periods;
pub mod petitions;
pub mod procedures;
pub mod reports;
pub mod scores;
pub mod scoring;
pub mod token;
pub mod units;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(
            scope("/api/v1")
                .service(token::issue_token)
                .service(units::list_units)
                .service(units::create_unit)
                .service(units::get_unit)
                .service(units::patch_unit)
                .service(clients::list_clients)
                .service(clients::create_client)
                .service(clients::get_client)
                .service(clients::patch_client)
                .service(clients::delete_client)
                .service(clients::rotate_secret)
                .service(audit::list_audit)
                .service(calendar::due)
                .service(calendar::working_time)
                .service(calendar::get_year)
                .service(calendar::put_year)
                .service(calendar::list_days)
                // Fixed paths before `/procedures/{code}` and `/announcements/{id}`.
                .service(procedures::list_procedures)
                .service(procedures::create_procedure)
                .service(procedures::bulk_procedures)
                .service(procedures::not_localized)
                .service(procedures::get_procedure)
                .service(procedures::put_procedure)
                .service(procedures::list_versions)
                .service(procedures::list_fields)
                .service(procedures::put_field)
                .service(announcements::list_decisions)
                .service(announcements::create_decision)
                .service(announcements::late)
                .service(announcements::pending)
                .service(announcements::publication)
                .service(announcements::get_decision)
                .service(announcements::put_decision)
                .service(announcements::apply_decision)
                .service(announcements::get_rules)
                .service(announcements::put_rules)
                .service(dossiers::list_dossiers)
                .service(dossiers::bulk_dossiers)
                .service(dossiers::put_dossier)
                .service(dossiers::get_dossier)
                .service(dossiers::timeline)
                .service(dossiers::add_event)
                .service(dossiers::recompute_due)
                .service(dossiers::rate_dossier)
                // `/petitions/bulk` before `/petitions/{code}`.
                .service(petitions::list_petitions)
                .service(petitions::bulk_petitions)
                .service(petitions::put_petition)
                .service(petitions::get_petition)
                .service(petitions::add_petition_event)
                .service(petitions::get_petition_rules)
                .service(petitions::put_petition_rules)
                .service(petitions::petition_figures)
                .service(scoring::list_rule_sets)
                .service(scoring::get_rule_set)
                .service(scoring::evaluate)
                .service(scores::trend)
                .service(scores::rankings)
                .service(scores::get_score)
                .service(scores::list_misses)
                .service(gains::get_gains)
                .service(official::put_official)
                .service(official::get_official)
                .service(official::reconciliation)
                .service(periods::list_periods)
                .service(periods::close_period)
                .service(periods::reopen_period)
                .service(scores::put_figures)
                .service(scores::get_figures)
                .service(reports::ii06a)
                .service(reports::notice)
                // Fixed paths before `/reporting-duties/{code}`.
                .service(duties::list_duties)
                .service(duties::create_duty)
                .service(duties::compliance)
                .service(duties::due_soon)
                .service(duties::get_duty)
                .service(duties::put_duty)
                .service(duties::list_submissions)
                .service(duties::submit)
                .service(duties::mark_quality),
        );
}
