//! How a dossier's details are kept in the store's `data` column: as JSON without what is
//! absent, empty or false. Most dossiers carry no fees, components or results, and the full
//! form spent 173 of its 229 bytes on naming them (`"fees":[]`, `"vneidVerified":false` …),
//! once per dossier (README, "Storage per dossier"). Rows written in the full form still read.
//!
//! The API's form stays [`DossierDetails`], which always names every field; the two structs here
//! mirror it, and their conversions destructure it whole, so a field added there does not
//! compile here until it is kept.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::ResultDocument;
use super::record::{Applicant, ComponentRecord, DossierDetails, FeeRecord, SyncError};

/// The stored form, borrowed for writing.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted_at: Option<NaiveDateTime>,
    applicant: ApplicantOut<'a>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fees: &'a [FeeRecord],
    #[serde(skip_serializing_if = "is_false")]
    financial_obligation: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    components: &'a [ComponentRecord],
    #[serde(skip_serializing_if = "is_false")]
    vneid_verified: bool,
    #[serde(skip_serializing_if = "is_false")]
    population_db_used: bool,
    #[serde(skip_serializing_if = "is_false")]
    reuses_digitized_data: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    results: &'a [ResultDocument],
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor_due_at: Option<NaiveDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revised_at: Option<NaiveDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sync_error: Option<&'a SyncError>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    portal_fields: &'a BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicantOut<'a> {
    kind: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_last4: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_hash: Option<&'a str>,
}

/// The stored form, read: either form, what is missing taken as absent, empty or false.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct In {
    #[serde(default)]
    submitted_at: Option<NaiveDateTime>,
    applicant: Applicant,
    #[serde(default)]
    fees: Vec<FeeRecord>,
    #[serde(default)]
    financial_obligation: bool,
    #[serde(default)]
    components: Vec<ComponentRecord>,
    #[serde(default)]
    vneid_verified: bool,
    #[serde(default)]
    population_db_used: bool,
    #[serde(default)]
    reuses_digitized_data: bool,
    #[serde(default)]
    results: Vec<ResultDocument>,
    #[serde(default)]
    vendor_due_at: Option<NaiveDateTime>,
    #[serde(default)]
    revised_at: Option<NaiveDateTime>,
    #[serde(default)]
    sync_error: Option<SyncError>,
    #[serde(default)]
    portal_fields: BTreeMap<String, serde_json::Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `details` as the `data` column keeps them.
pub fn to_json(details: &DossierDetails) -> Result<String, serde_json::Error> {
    let DossierDetails {
        submitted_at,
        applicant,
        fees,
        financial_obligation,
        components,
        vneid_verified,
        population_db_used,
        reuses_digitized_data,
        results,
        vendor_due_at,
        revised_at,
        sync_error,
        portal_fields,
    } = details;
    let Applicant {
        kind,
        name,
        identity_last4,
        identity_hash,
    } = applicant;
    serde_json::to_string(&Out {
        submitted_at: *submitted_at,
        applicant: ApplicantOut {
            kind,
            name,
            identity_last4: identity_last4.as_deref(),
            identity_hash: identity_hash.as_deref(),
        },
        fees,
        financial_obligation: *financial_obligation,
        components,
        vneid_verified: *vneid_verified,
        population_db_used: *population_db_used,
        reuses_digitized_data: *reuses_digitized_data,
        results,
        vendor_due_at: *vendor_due_at,
        revised_at: *revised_at,
        sync_error: sync_error.as_ref(),
        portal_fields,
    })
}

/// The details the `data` column keeps as `json`, in either form.
pub fn from_json(json: &str) -> Result<DossierDetails, serde_json::Error> {
    let In {
        submitted_at,
        applicant,
        fees,
        financial_obligation,
        components,
        vneid_verified,
        population_db_used,
        reuses_digitized_data,
        results,
        vendor_due_at,
        revised_at,
        sync_error,
        portal_fields,
    } = serde_json::from_str(json)?;
    Ok(DossierDetails {
        submitted_at,
        applicant,
        fees,
        financial_obligation,
        components,
        vneid_verified,
        population_db_used,
        reuses_digitized_data,
        results,
        vendor_due_at,
        revised_at,
        sync_error,
        portal_fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare() -> DossierDetails {
        DossierDetails {
            submitted_at: None,
            applicant: Applicant {
                kind: "citizen".into(),
                name: "Công dân".into(),
                identity_last4: None,
                identity_hash: None,
            },
            fees: vec![],
            financial_obligation: false,
            components: vec![],
            vneid_verified: false,
            population_db_used: false,
            reuses_digitized_data: false,
            results: vec![],
            vendor_due_at: None,
            revised_at: None,
            sync_error: None,
            portal_fields: BTreeMap::new(),
        }
    }

    #[test]
    fn what_is_absent_empty_or_false_is_left_out() {
        let json = to_json(&bare()).unwrap();
        assert_eq!(
            json,
            r#"{"applicant":{"kind":"citizen","name":"Công dân"}}"#
        );
        assert_eq!(from_json(&json).unwrap(), bare());
    }

    #[test]
    fn every_field_set_comes_back() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .unwrap();
        let mut d = bare();
        d.submitted_at = Some(at);
        d.applicant.identity_last4 = Some("6789".into());
        d.applicant.identity_hash = Some("hmac-sha256:k1:ab".into());
        d.fees = vec![FeeRecord {
            name: "Lệ phí".into(),
            amount_vnd: 50_000,
            paid_online: true,
        }];
        d.financial_obligation = true;
        d.components = vec![ComponentRecord {
            name: "Tờ khai".into(),
            sha256: None,
            file_url: Some("https://dvc.example/to-khai.pdf".into()),
            digitized: true,
            reused: false,
            from_citizen_store: false,
        }];
        d.vneid_verified = true;
        d.population_db_used = true;
        d.reuses_digitized_data = true;
        d.results = vec![ResultDocument {
            name: "ket-qua.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: Some(1_000),
            sha256: "ab".repeat(32),
            pages: Some(2),
            signed: true,
            saved_to_citizen_store: true,
        }];
        d.vendor_due_at = Some(at);
        d.sync_error = Some(SyncError {
            at,
            message: "timeout".into(),
        });
        d.portal_fields
            .insert("GhiChu".into(), serde_json::json!("ghi chú"));
        assert_eq!(from_json(&to_json(&d).unwrap()).unwrap(), d);
    }

    #[test]
    fn the_full_form_written_before_still_reads() {
        let full = serde_json::to_string(&bare()).unwrap();
        assert!(full.contains(r#""fees":[]"#), "{full}");
        assert_eq!(from_json(&full).unwrap(), bare());
    }
}
