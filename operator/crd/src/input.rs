//! The resources as Central's inputs: what the controllers plan with and
//! what the REST shim validates before writing.

use designate_central::{NsRecord, RecordsetInput, ZoneInput, ZoneKind};
use kube::ResourceExt;

use crate::grant::DesignateId;

use crate::{Pool, Recordset, Zone, ZoneType};

impl Zone {
    /// The zone as Central sees it: its project is its namespace.
    pub fn to_input(&self) -> ZoneInput {
        ZoneInput {
            id: self.designate_id(),
            project: self.namespace().unwrap_or_default(),
            name: self.spec.name.clone(),
            email: self.spec.email.clone(),
            ttl: self.spec.ttl.map(i64::from),
            description: self.spec.description.clone(),
            kind: match self.spec.type_ {
                ZoneType::Primary => ZoneKind::Primary,
                ZoneType::Secondary => ZoneKind::Secondary,
            },
            masters: self.spec.masters.clone(),
        }
    }
}

impl Recordset {
    pub fn to_input(&self) -> RecordsetInput {
        RecordsetInput {
            id: self.designate_id(),
            name: self.spec.name.clone(),
            type_: self.spec.type_.clone(),
            ttl: self.spec.ttl.map(i64::from),
            records: self.spec.records.clone(),
            description: self.spec.description.clone(),
        }
    }
}

impl Pool {
    /// The apex NS records zones of this pool get.
    pub fn ns_records(&self) -> Vec<NsRecord> {
        self.spec
            .ns_records
            .iter()
            .map(|ns| NsRecord {
                hostname: ns.hostname.clone(),
                priority: i64::from(ns.priority),
            })
            .collect()
    }
}
