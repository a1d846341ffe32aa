//! `/v2/reverse/floatingips`: the PTR records of a project's floating IPs
//! (Designate's FloatingIPController and Central's `*_floatingip`).
//!
//! Designate asks Neutron which floating IPs the caller's project has; here
//! they are the FloatingIp objects the Sink keeps from neutron's
//! notifications (`--sink-floatingip-region`). A PTR is a Recordset named
//! after the address in the reverse zone `<c>.<b>.<a>.in-addr.arpa.`, made
//! when missing and owned by Central's managed resource tenant
//! (`managed_resource_tenant_id`), as
//! Designate makes it. The Recordset is labelled with its FloatingIp (the
//! Sink removes it with the floating IP) and annotated with the project
//! that set it; a PTR another project set is not this project's.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::{FloatingIp, PTR_LABEL, Recordset, RecordsetSpec, Zone, ZoneSpec, ZoneType};
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller};
use crate::render::{Links, RecordsetView};
use crate::{Api, ApiError, Shared, base_url, body};

/// The project that set a PTR (Designate's `managed_tenant_id`).
pub const PTR_PROJECT_ANNOTATION: &str = "designate.openstack.org/managed-tenant-id";

const UPDATE_KEYS: &[&str] = &["ptrdname", "description", "ttl"];

/// Designate's `RE_FIP` for a key, split: `(region, id)` with the id in
/// lower case (object names are).
fn parse_key(key: &str) -> Result<(String, String), ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Floating IP {key} is not in the format of <region>:<uuid>"
        ))
    };
    let (region, id) = key.split_once(':').ok_or_else(bad)?;
    let region_ok = (1..=100).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    let id_ok = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if !region_ok || !id_ok {
        return Err(bad());
    }
    Ok((region.to_string(), id.to_ascii_lowercase()))
}

/// The reverse zone of an IPv4 address (a /24) and the PTR name in it.
fn reverse_names(address: &str) -> Option<(String, String)> {
    let octets = address.parse::<Ipv4Addr>().ok()?.octets();
    let zone = format!("{}.{}.{}.in-addr.arpa.", octets[2], octets[1], octets[0]);
    Some((zone.clone(), format!("{}.{zone}", octets[3])))
}

/// A floating IP's PTR as Designate shows it.
#[derive(Serialize)]
struct FloatingIpJson<'a> {
    id: String,
    ptrdname: Option<&'a str>,
    description: Option<&'a str>,
    ttl: Option<i64>,
    address: &'a str,
    action: &'static str,
    status: &'static str,
    links: Links,
}

/// The PTR of a floating IP this project set.
struct Ptr {
    recordset: Arc<Recordset>,
    zone: Arc<Zone>,
}

impl Api {
    /// The reverse zone of `address`, whoever owns it.
    fn reverse_zone(&self, zone_name: &str) -> Option<Arc<Zone>> {
        self.cache
            .zones
            .tree_named(&crate::cache::reversed_name(zone_name))
            .into_iter()
            .find(|zone| zone.spec.name.eq_ignore_ascii_case(zone_name))
    }

    /// The PTR `project` set for the floating IP, if any.
    fn ptr_of(&self, fip: &FloatingIp, project: &str) -> Option<Ptr> {
        let (zone_name, ptr_name) = reverse_names(&fip.spec.address)?;
        let zone = self.reverse_zone(&zone_name)?;
        let recordset = self.ptr_recordset(&zone, &ptr_name).filter(|rs| {
            rs.annotations()
                .get(PTR_PROJECT_ANNOTATION)
                .map(String::as_str)
                == Some(project)
        })?;
        Some(Ptr { recordset, zone })
    }

    /// The PTR recordset named `ptr_name` in the reverse zone, whoever set it.
    fn ptr_recordset(&self, zone: &Zone, ptr_name: &str) -> Option<Arc<Recordset>> {
        let group = crate::cache::zone_key(zone.namespace().as_deref(), &zone.name_any());
        self.cache
            .recordsets
            .group(&group)
            .into_iter()
            .find(|rs| rs.spec.type_ == "PTR" && rs.spec.name.eq_ignore_ascii_case(ptr_name))
    }

    /// The caller's floating IP by its key.
    fn caller_fip(
        &self,
        caller: &Caller,
        region: &str,
        id: &str,
    ) -> Result<Arc<FloatingIp>, ApiError> {
        self.cache
            .floating_ips
            .tree_named(&format!("{region}:{id}"))
            .into_iter()
            .find(|fip| fip.spec.project == caller.project)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "not_found",
                    format!(
                        "FloatingIP {id} in {region} is not associated for project \"{}\"",
                        caller.project
                    ),
                )
            })
    }

    fn render_fip<'a>(
        &self,
        fip: &'a FloatingIp,
        ptr: Option<&'a Ptr>,
        base: &str,
    ) -> FloatingIpJson<'a> {
        let key = fip.spec.key();
        let links = Links {
            self_: format!("{base}/v2/reverse/floatingips/{key}"),
        };
        let Some(ptr) = ptr else {
            return FloatingIpJson {
                id: key,
                ptrdname: None,
                description: None,
                ttl: None,
                address: &fip.spec.address,
                action: "NONE",
                status: "INACTIVE",
                links,
            };
        };
        let view = RecordsetView::new(ptr.recordset.clone(), ptr.zone.clone(), Arc::from(""));
        let ttl = ptr
            .recordset
            .spec
            .ttl
            .map(i64::from)
            .unwrap_or_else(|| self.zone_view(ptr.zone.clone()).ttl(&self.settings.central));
        FloatingIpJson {
            id: key,
            ptrdname: ptr.recordset.spec.records.first().map(String::as_str),
            description: ptr.recordset.spec.description.as_deref(),
            ttl: Some(ttl),
            address: &fip.spec.address,
            action: view.action(),
            status: view.status(),
            links,
        }
    }

    /// The reverse zone of `zone_name`, made for Central's managed resource
    /// tenant when missing.
    async fn ensure_reverse_zone(&self, zone_name: &str) -> Result<Arc<Zone>, ApiError> {
        if let Some(zone) = self.reverse_zone(zone_name) {
            return Ok(zone);
        }
        let namespace = self
            .tenancy
            .ensure(
                &self.client,
                &self.cache,
                &self.settings.central.managed_resource_tenant_id,
            )
            .await?;
        let mut zone = Zone::new(
            &designate_crd::names::zone(zone_name),
            ZoneSpec {
                name: zone_name.to_string(),
                email: Some(self.settings.central.managed_resource_email.clone()),
                type_: ZoneType::Primary,
                ..ZoneSpec::default()
            },
        );
        zone.metadata.namespace = Some(namespace);
        match self.cache.zones.create(&self.client, &zone).await {
            Ok(made) => Ok(Arc::new(made)),
            // Made meanwhile by another request: use it.
            Err(kube::Error::Api(e)) if e.code == 409 => self
                .reverse_zone(zone_name)
                .ok_or_else(|| ApiError::new(409, "duplicate_zone", "Duplicate Zone")),
            Err(error) => Err(error.into()),
        }
    }
}

pub async fn list(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_own("find_records")?;
    let base = base_url(&headers);
    let mut fips = api.cache.floating_ips.group(&caller.project);
    fips.sort_by_key(|fip| fip.spec.key());
    let ptrs: Vec<Option<Ptr>> = fips
        .iter()
        .map(|fip| api.ptr_of(fip, &caller.project))
        .collect();
    let items: Vec<FloatingIpJson> = fips
        .iter()
        .zip(&ptrs)
        .map(|(fip, ptr)| api.render_fip(fip, ptr.as_ref(), &base))
        .collect();
    // No pagination, so no `next` (Designate's FloatingIPList).
    Ok(axum::Json(json!({
        "floatingips": items,
        "links": {"self": format!("{base}/v2/reverse/floatingips")},
    }))
    .into_response())
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let (region, id) = parse_key(&key)?;
    caller.require_own("find_records")?;
    let fip = api.caller_fip(&caller, &region, &id)?;
    let ptr = api.ptr_of(&fip, &caller.project);
    Ok(axum::Json(api.render_fip(&fip, ptr.as_ref(), &base_url(&headers))).into_response())
}

/// What a PATCH asks: set a PTR, unset it, or nothing.
enum Change {
    Set {
        ptrdname: String,
        description: Option<String>,
        ttl: Option<i64>,
    },
    Unset,
    Nothing,
}

fn change(body: &Map<String, Value>) -> Result<Change, ApiError> {
    body::only(body, UPDATE_KEYS, "floatingip")?;
    let description = body::string(body, "description")?;
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 160)
    {
        return Err(ApiError::schema(
            json!(["description"]),
            format!("'{}' is too long", description.unwrap_or_default()),
            "maxLength",
            json!(160),
        ));
    }
    let ttl = body::integer(body, "ttl")?;
    if let Some(ttl) = ttl.filter(|t| !(0..=2_147_483_647).contains(t)) {
        let (validator, bound) = if ttl < 0 {
            ("minimum", json!(0))
        } else {
            ("maximum", json!(2_147_483_647))
        };
        return Err(ApiError::schema(
            json!(["ttl"]),
            format!("{ttl} is out of range"),
            validator,
            bound,
        ));
    }
    match body.get("ptrdname") {
        Some(Value::Null) => Ok(Change::Unset),
        None => Ok(Change::Nothing),
        Some(Value::String(name))
            if name.ends_with('.')
                && designate_central::rdata::normalize("PTR", name).is_some() =>
        {
            Ok(Change::Set {
                ptrdname: name.clone(),
                description,
                ttl,
            })
        }
        Some(other) => Err(ApiError::schema(
            json!(["ptrdname"]),
            format!(
                "{} is not a 'domainname'",
                crate::fields::python_text(other)
            ),
            "format",
            json!("domainname"),
        )),
    }
}

pub async fn update(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let (region, id) = parse_key(&key)?;
    let body = body::object(&headers, &payload)?;
    let change = change(&body)?;
    // Designate checks no rule of its own here (Central acts elevated);
    // a project member's write is what setting a record takes elsewhere.
    caller.require(
        "create_recordset",
        &auth::zone_target(&caller.project, "PRIMARY", false),
    )?;
    match change {
        Change::Nothing => Ok(StatusCode::ACCEPTED.into_response()),
        Change::Unset => {
            let ptr = api
                .caller_fip(&caller, &region, &id)
                .ok()
                .and_then(|fip| api.ptr_of(&fip, &caller.project))
                .ok_or_else(|| {
                    ApiError::new(
                        404,
                        "not_found",
                        format!("No such FloatingIP {region}:{id}"),
                    )
                })?;
            api.cache
                .recordsets
                .delete(&api.client, &ptr.recordset)
                .await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        Change::Set {
            ptrdname,
            description,
            ttl,
        } => {
            let fip = api.caller_fip(&caller, &region, &id)?;
            let (zone_name, ptr_name) = reverse_names(&fip.spec.address)
                .ok_or_else(|| ApiError::bad_request("Floating IP PTRs are IPv4 only"))?;
            let zone = api.ensure_reverse_zone(&zone_name).await?;
            let spec = RecordsetSpec {
                zone_ref: zone.name_any(),
                name: ptr_name.clone(),
                type_: "PTR".into(),
                ttl: ttl.and_then(|t| i32::try_from(t).ok()),
                records: vec![ptrdname],
                description,
            };
            let labels = json!({ PTR_LABEL: fip.name_any() });
            let annotations = json!({ PTR_PROJECT_ANNOTATION: caller.project });
            let existing = api.ptr_recordset(&zone, &ptr_name);
            let written = match existing {
                // Designate upserts the one PTR recordset of the name.
                Some(rs) => {
                    let patch = json!({
                        "metadata": {"labels": labels, "annotations": annotations},
                        "spec": {
                            "records": spec.records,
                            "ttl": spec.ttl,
                            "description": spec.description,
                        },
                    });
                    api.cache.recordsets.patch(&api.client, &rs, patch).await?
                }
                None => {
                    let mut recordset = Recordset::new(
                        &designate_crd::names::recordset(&ptr_name, &zone_name, "PTR"),
                        spec,
                    );
                    recordset.metadata.namespace = zone.namespace();
                    recordset.metadata.labels = serde_json::from_value(labels).ok();
                    recordset.metadata.annotations = serde_json::from_value(annotations).ok();
                    api.cache.recordsets.create(&api.client, &recordset).await?
                }
            };
            let ptr = Ptr {
                recordset: Arc::new(written),
                zone,
            };
            let body = api.render_fip(&fip, Some(&ptr), &base_url(&headers));
            Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_designates() {
        assert_eq!(
            parse_key("RegionOne:F38FF2B6-cd4d-433e-8a9c-9e00dfc05b1e").unwrap(),
            (
                "RegionOne".to_string(),
                "f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e".to_string()
            )
        );
        for bad in [
            "f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e",
            "Region One:f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e",
            "RegionOne:f38ff2b6",
            ":f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e",
        ] {
            assert_eq!(parse_key(bad).unwrap_err().code, 400, "{bad}");
        }
    }

    #[test]
    fn reverse_names_are_the_24s() {
        assert_eq!(
            reverse_names("192.0.2.201"),
            Some((
                "2.0.192.in-addr.arpa.".into(),
                "201.2.0.192.in-addr.arpa.".into()
            ))
        );
        assert_eq!(reverse_names("2001:db8::1"), None);
    }

    #[test]
    fn a_patch_sets_unsets_or_refuses() {
        let body = |v: Value| v.as_object().unwrap().clone();
        assert!(matches!(
            change(&body(json!({"ptrdname": "host.example.org.", "ttl": 300}))),
            Ok(Change::Set { ttl: Some(300), .. })
        ));
        assert!(matches!(
            change(&body(json!({"ptrdname": null}))),
            Ok(Change::Unset)
        ));
        for bad in [
            json!({"ptrdname": "no-dot"}),
            json!({"ptrdname": 5}),
            json!({"ptrdname": "a.example.org.", "ttl": -1}),
            json!({"ptrdname": "a.example.org.", "address": "192.0.2.1"}),
        ] {
            assert_eq!(
                change(&body(bad.clone())).err().map(|e| e.code),
                Some(400),
                "{bad}"
            );
        }
    }
}
